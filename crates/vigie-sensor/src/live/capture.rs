//! Live capture from one or more interfaces through libpcap (AF_PACKET), with a BPF filter and the kernel's drop counters.
