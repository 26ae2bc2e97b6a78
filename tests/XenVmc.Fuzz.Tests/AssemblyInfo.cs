// One fuzzer at a time: each gets the machine for its budget, and the async XenStore targets
// are not starved of thread-pool threads by the synchronous ones.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
