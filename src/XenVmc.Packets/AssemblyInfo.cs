namespace XenVmc.Packets;
