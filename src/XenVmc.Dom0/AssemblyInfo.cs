namespace XenVmc.Dom0;
