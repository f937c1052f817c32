using System.Runtime.CompilerServices;

// The one-shot search internals (PIBT, SIPP, the space-time table, the repairs) are tested directly.
[assembly: InternalsVisibleTo("WarehouseHybrid.Planning.Tests")]
