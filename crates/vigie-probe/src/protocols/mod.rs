//! The protocol modules: each examines the open ports it knows (identifies
//! the service from its banner or handshake, then runs its checks) and
//! returns a [`crate::target::PortResult`]. Parsers of received bytes are
//! pure functions, fuzzed.
