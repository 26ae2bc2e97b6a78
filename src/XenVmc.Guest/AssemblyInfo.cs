namespace XenVmc.Guest;
