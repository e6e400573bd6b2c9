//! `fake:<behaviour>`: a test double for the harness's own tests (hyperfine's MockExecutor
//! idea). It computes correct outputs with the reference interpreter, then misbehaves as asked,
//! so tests can check how the harness records crashes, hangs and wrong answers.

use std::time::Duration;

use anyhow::{Result, bail};
use engine::{Data, Graph, Tensor};

use crate::{Availability, Session, Subject};

/// What a fake subject does on each run.
#[derive(Clone, Debug, PartialEq)]
pub enum FakeBehaviour {
    /// `fake:sleep=2ms`: correct outputs after sleeping this long.
    Sleep(Duration),
    /// `fake:crash`: aborts the process on the first run.
    Crash,
    /// `fake:hang`: never returns from the first run.
    Hang,
    /// `fake:wrong`: outputs off by 1.0.
    Wrong,
    /// `fake:fail-load`: `load` returns an error.
    FailLoad,
}

pub struct Fake {
    name: String,
    behaviour: FakeBehaviour,
}

impl Fake {
    pub fn parse(name: &str, spec: &str) -> Result<Fake, String> {
        let behaviour = match spec.strip_prefix(':') {
            Some("crash") => FakeBehaviour::Crash,
            Some("hang") => FakeBehaviour::Hang,
            Some("wrong") => FakeBehaviour::Wrong,
            Some("fail-load") => FakeBehaviour::FailLoad,
            Some(s) if s.starts_with("sleep=") => {
                let d = &s["sleep=".len()..];
                let secs = parse_seconds(d).ok_or_else(|| {
                    format!("subject `{name}`: `{d}` is not a duration like 2ms, 150us or 1.5s")
                })?;
                FakeBehaviour::Sleep(Duration::from_secs_f64(secs))
            }
            _ => {
                return Err(format!(
                    "subject `{name}`: expected fake:sleep=<duration>, fake:crash, fake:hang, fake:wrong or fake:fail-load"
                ));
            }
        };
        Ok(Fake {
            name: name.to_string(),
            behaviour,
        })
    }
}

fn parse_seconds(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().ok()?;
    let scale = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        _ => return None,
    };
    Some(value * scale)
}

struct FakeSession {
    graph: Graph,
    behaviour: FakeBehaviour,
}

impl Subject for Fake {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        "test double for the harness's own tests"
    }
    fn threading(&self) -> &str {
        "ignores N"
    }
    fn version(&self) -> String {
        "fake".into()
    }
    fn availability(&self) -> Availability {
        Availability::Available
    }
    fn load(&self, graph: &Graph, _threads: usize) -> Result<Box<dyn Session>> {
        if self.behaviour == FakeBehaviour::FailLoad {
            bail!("fake subject asked to fail while loading");
        }
        Ok(Box::new(FakeSession {
            graph: graph.clone(),
            behaviour: self.behaviour.clone(),
        }))
    }
}

impl Session for FakeSession {
    fn run(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
        match self.behaviour {
            FakeBehaviour::Crash => std::process::abort(),
            FakeBehaviour::Hang => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            FakeBehaviour::Sleep(d) => std::thread::sleep(d),
            FakeBehaviour::Wrong | FakeBehaviour::FailLoad => {}
        }
        let outputs = engine::reference::run(&self.graph, inputs)?;
        if self.behaviour != FakeBehaviour::Wrong {
            return Ok(outputs);
        }
        outputs
            .into_iter()
            .map(|t| {
                let dims = t.dims().to_vec();
                Ok(match t.into_data() {
                    Data::F32(v) => Tensor::from_f32(&dims, v.iter().map(|x| x + 1.0).collect())?,
                    Data::I64(v) => Tensor::from_i64(&dims, v.iter().map(|x| x + 1).collect())?,
                })
            })
            .collect()
    }
}
