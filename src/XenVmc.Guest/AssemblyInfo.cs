using System.Runtime.CompilerServices;

// xenvmc-sim's hostile test peer speaks the real handshake with the real channel code.
[assembly: InternalsVisibleTo("xenvmc-sim")]
