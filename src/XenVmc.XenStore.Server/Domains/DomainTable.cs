namespace XenVmc.XenStore.Server.Domains;

/// <summary>Every domain the store knows, by id. Used only under the engine lock.</summary>
internal sealed class DomainTable
{
    /// <summary>DOMID_FIRST_RESERVED: ids from here up are not domains (DOMID_SELF, DOMID_IO, ...).</summary>
    public const uint FirstReserved = 0x7FF0;

    /// <summary>DOMID_SELF, which IS_DOMAIN_INTRODUCED always answers T for.</summary>
    public const uint Self = 0x7FF0;

    private readonly Dictionary<uint, DomainState> _domains = [];

    public IEnumerable<DomainState> All => _domains.Values;

    public DomainState? Find(uint domid) => _domains.GetValueOrDefault(domid);

    /// <summary>
    /// find_or_alloc_existing_domain(): the simulated host has no hypervisor to ask, so every id below
    /// the reserved range counts as a domain that exists.
    /// </summary>
    public DomainState? FindOrCreate(uint domid, long generation)
    {
        if (_domains.TryGetValue(domid, out DomainState? d))
        {
            return d;
        }

        if (domid >= FirstReserved)
        {
            return null;
        }

        d = new DomainState(domid, generation);
        _domains.Add(domid, d);
        return d;
    }

    public void Remove(uint domid) => _domains.Remove(domid);

    /// <summary>chk_domain_generation(): the domain exists and is not younger than a node of this generation.</summary>
    public bool IsCurrent(uint domid, long nodeGeneration) =>
        _domains.TryGetValue(domid, out DomainState? d) && d.Generation <= nodeGeneration;
}
