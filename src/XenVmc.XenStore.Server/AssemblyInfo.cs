namespace XenVmc.XenStore.Server;
