namespace XenVmc.XenStore;
