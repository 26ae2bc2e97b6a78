namespace XenVmc.Linux;
