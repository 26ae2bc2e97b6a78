using System.Runtime.CompilerServices;

// The protocol tests drive the store's internals (engine, views) directly as well as over sockets.
[assembly: InternalsVisibleTo("XenVmc.XenStore.Tests")]

namespace XenVmc.XenStore.Server;
