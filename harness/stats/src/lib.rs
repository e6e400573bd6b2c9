//! Benchmark statistics (being written).
