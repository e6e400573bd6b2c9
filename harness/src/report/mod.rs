//! Reports rendered from results.json (being written).
