using System.Runtime.CompilerServices;

// The simulated xenstored shares the frame codec (header, message types, limits, error names);
// it is one protocol, so it is written once.
[assembly: InternalsVisibleTo("XenVmc.XenStore.Server")]

namespace XenVmc.XenStore;
