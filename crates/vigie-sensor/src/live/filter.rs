//! Filter mode: an nftables set of remote addresses to block, with expiry, never holding an allowlisted or home-net address.
