using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace XenVmc.Platform.Hosting;

/// <summary>
/// Creates a daemon's options from its <see cref="DaemonConfiguration"/> with the daemon's own
/// binder: typed getters that refuse a wrong value with one line naming the option, the value and
/// what is allowed (a <see cref="ConfigurationException"/>), and no reflection, so the daemons stay
/// free of trim and AOT warnings.
/// </summary>
internal sealed class DaemonOptionsFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(DaemonConfiguration configuration, Func<DaemonConfiguration, TOptions> bind) : IOptionsFactory<TOptions>
    where TOptions : class
{
    public TOptions Create(string name) => bind(configuration);
}
