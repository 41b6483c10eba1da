//! What a live sensor persists to restart where it stopped: the engine's open incidents and counters, the next batch sequence number; written atomically.
