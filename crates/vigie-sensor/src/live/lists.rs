//! Threat lists and allowlists fetched from the observatory, cached on disk, rebuilt into an `Intel` off the packet path and swapped in whole.
