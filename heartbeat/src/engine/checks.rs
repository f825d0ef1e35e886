//! The checks of one endpoint ([`Checks`]): a request's states, read at once when every one is
//! fresh (and, for a large endpoint, the last such read given again while it holds), else from
//! one evaluation shared by every request that asks for the same checks meanwhile.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;
use futures_util::future::{Shared, join_all};
use smallvec::SmallVec;
use tokio::time::Instant;

use super::{Monitor, State};

/// What one evaluation gives every request that shared it: the states, in selection order.
pub(crate) struct Evaluated {
    /// When the evaluation asked (for all of its requests: their answers are the same).
    asked: Instant,
    states: Vec<Arc<State>>,
}

/// One evaluation of a set of checks, shared by every request that asks for the same set
/// while it runs.
type Evaluation = Shared<Pin<Box<dyn Future<Output = Arc<Evaluated>> + Send>>>;

/// The evaluation a request waits for when some selected check was not fresh ([`Checks::read`]):
/// its [`Answer`] when every check has a state.
pub(crate) struct Waiting(Evaluation);

impl Future for Waiting {
    type Output = Answer;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Answer> {
        Pin::new(&mut self.0).poll(cx).map(|evaluated| Answer {
            asked: evaluated.asked,
            states: Answered::Evaluated(evaluated),
        })
    }
}

/// At most this many different sets of checks in flight at once share their evaluation: a
/// request looks for its set among them one by one.
const EVALUATIONS: usize = 64;

/// From this many checks on, a read with every state fresh is kept ([`Checks::last`]).
const KEPT_FROM: usize = 16;

/// A selection of checks by index, as a key (`None`: every check).
type Selection = Option<Box<[usize]>>;

/// The checks of one endpoint, sorted by name, and the evaluations in flight.
pub(crate) struct Checks {
    monitors: Arc<[Arc<Monitor>]>,
    /// The evaluations in flight, by selection (`None`: every check).
    evaluations: Mutex<Vec<(Selection, Evaluation)>>,
    /// The last read of a large selection that found every state fresh, with its selection:
    /// given again while every check still has that same state, so that a storm of requests
    /// to 1,000 checks neither allocates nor copies 1,000 pointers per request.
    last: Mutex<Option<(Selection, Arc<Evaluated>)>>,
}

/// The states of the checks a request asked for, in the order asked.
pub(crate) struct Answer {
    /// When the request (or the evaluation it shared) asked: a state that started before this
    /// was reused.
    pub(crate) asked: Instant,
    pub(crate) states: Answered,
}

/// States read by the request itself, or shared with every request of an evaluation (not
/// copied for each: with 1,000 checks and 2,000 requests waiting, that would be 16 MB).
pub(crate) enum Answered {
    /// Read by the request (a few inline: no allocation for a small endpoint).
    Read(SmallVec<[Arc<State>; 4]>),
    Evaluated(Arc<Evaluated>),
}

impl std::ops::Deref for Answered {
    type Target = [Arc<State>];

    fn deref(&self) -> &[Arc<State>] {
        match self {
            Answered::Read(states) => states,
            Answered::Evaluated(evaluated) => &evaluated.states,
        }
    }
}

impl Checks {
    pub(crate) fn new(monitors: Vec<Arc<Monitor>>) -> Self {
        Checks {
            monitors: monitors.into(),
            evaluations: Mutex::default(),
            last: Mutex::default(),
        }
    }

    pub(crate) fn monitors(&self) -> &[Arc<Monitor>] {
        &self.monitors
    }

    /// The states of the selected checks (`None`: all), in selection order: at once when all
    /// are fresh, else from an evaluation shared with concurrent requests for the same set.
    pub(crate) async fn evaluate(&self, selection: Option<&[usize]>) -> Answer {
        match self.read(selection) {
            Ok(answer) => answer,
            Err(waiting) => waiting.await,
        }
    }

    /// The states of the selected checks when every one is fresh (no waiting), else what to
    /// wait for: [`Checks::evaluate`] for a caller that answers at once when it can.
    pub(crate) fn read(&self, selection: Option<&[usize]>) -> Result<Answer, Waiting> {
        let asked = Instant::now();
        let count = selection.map_or(self.monitors.len(), <[usize]>::len);
        let kept = count >= KEPT_FROM;
        if kept {
            if let Some(last) = self.last_read(selection, asked) {
                return Ok(Answer {
                    asked,
                    states: Answered::Evaluated(last),
                });
            }
        }
        let mut states = SmallVec::with_capacity(count);
        for monitor in self.selected(selection) {
            match monitor.fresh(asked) {
                Some(state) => states.push(state),
                None => break,
            }
        }
        if states.len() < count {
            drop(states);
            return Err(Waiting(self.evaluation(selection, asked)));
        }
        if kept {
            let read = Arc::new(Evaluated {
                asked,
                states: states.into_vec(),
            });
            let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            *last = Some((selection.map(Box::from), Arc::clone(&read)));
            return Ok(Answer {
                asked,
                states: Answered::Evaluated(read),
            });
        }
        Ok(Answer {
            asked,
            states: Answered::Read(states),
        })
    }

    /// The last read of `selection`, if every check still has the state it read, fresh at
    /// `now`.
    fn last_read(&self, selection: Option<&[usize]>, now: Instant) -> Option<Arc<Evaluated>> {
        let last = {
            let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            let (key, read) = last.as_ref()?;
            if key.as_deref() != selection {
                return None;
            }
            Arc::clone(read)
        };
        let same = self
            .selected(selection)
            .zip(last.states.iter())
            .all(|(monitor, state)| monitor.still(state, now));
        same.then_some(last)
    }

    fn selected<'a>(
        &'a self,
        selection: Option<&'a [usize]>,
    ) -> impl Iterator<Item = &'a Arc<Monitor>> + 'a {
        enum Selected<A, B> {
            All(A),
            Some(B),
        }
        impl<'a, A, B> Iterator for Selected<A, B>
        where
            A: Iterator<Item = &'a Arc<Monitor>>,
            B: Iterator<Item = &'a Arc<Monitor>>,
        {
            type Item = &'a Arc<Monitor>;

            fn next(&mut self) -> Option<Self::Item> {
                match self {
                    Selected::All(all) => all.next(),
                    Selected::Some(some) => some.next(),
                }
            }
        }
        match selection {
            None => Selected::All(self.monitors.iter()),
            Some(indices) => Selected::Some(indices.iter().filter_map(|&i| self.monitors.get(i))),
        }
    }

    /// The evaluation in flight for this selection, or a new one. Finished evaluations are
    /// dropped here; with [`EVALUATIONS`] sets in flight already, a new one is not kept for
    /// sharing (its checks still run once each: a run in flight is joined, not repeated).
    fn evaluation(&self, selection: Option<&[usize]>, asked: Instant) -> Evaluation {
        let mut evaluations = self
            .evaluations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        evaluations.retain(|(_, evaluation)| evaluation.peek().is_none());
        let in_flight = evaluations
            .iter()
            .find(|(key, _)| key.as_deref() == selection);
        if let Some((_, evaluation)) = in_flight {
            return evaluation.clone();
        }
        let monitors: Arc<[Arc<Monitor>]> = match selection {
            None => Arc::clone(&self.monitors),
            Some(_) => self.selected(selection).cloned().collect(),
        };
        let evaluation: Pin<Box<dyn Future<Output = Arc<Evaluated>> + Send>> =
            Box::pin(async move {
                let states = join_all(monitors.iter().map(|monitor| monitor.state(asked))).await;
                Arc::new(Evaluated { asked, states })
            });
        let evaluation = evaluation.shared();
        if evaluations.len() < EVALUATIONS {
            evaluations.push((selection.map(Box::from), evaluation.clone()));
        }
        evaluation
    }
}
