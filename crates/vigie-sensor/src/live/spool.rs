//! The on-disk spool of batches waiting for the observatory's acknowledgement: bounded in size, dropping the oldest detail (never the counters) when full.
