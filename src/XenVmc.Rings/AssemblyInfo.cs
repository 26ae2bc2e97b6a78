namespace XenVmc.Rings;
