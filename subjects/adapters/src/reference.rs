//! `reference`: the engine's naive f64 interpreter, the correctness oracle. Measured too, so
//! the report shows what the compiler buys.

use anyhow::Result;
use engine::{Graph, Tensor};

use crate::{Availability, Session, Subject};

pub struct Reference;

struct ReferenceSession {
    graph: Graph,
}

impl Subject for Reference {
    fn name(&self) -> &str {
        "reference"
    }
    fn description(&self) -> &str {
        "graphbench engine's naive interpreter (f64 accumulation), the correctness oracle"
    }
    fn threading(&self) -> &str {
        "one thread, whatever N (the oracle is not a contestant)"
    }
    fn version(&self) -> String {
        format!("engine {} reference", env!("CARGO_PKG_VERSION"))
    }
    fn availability(&self) -> Availability {
        Availability::Available
    }
    fn load(&self, graph: &Graph, _threads: usize) -> Result<Box<dyn Session>> {
        graph.validate()?;
        Ok(Box::new(ReferenceSession {
            graph: graph.clone(),
        }))
    }
}

impl Session for ReferenceSession {
    fn run(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        Ok(engine::reference::run(&self.graph, inputs)?)
    }
}
