namespace XenVmc.Platform;
