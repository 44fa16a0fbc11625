//! `scopegate usage`: requested vs granted vs used. Evidence of what an app actually
//! did (FHIR `AuditEvent`s, JSON-lines access logs) and what EHRs granted it (token
//! responses) is streamed into a small [`tally::Tally`], then compared with the
//! manifest by the pure [`analyze::analyze`], which produces one [`report::UsageReport`].
//!
//! I/O stays at the edges: [`evidence`] reads `impl Read` values and never opens a
//! file; the CLI opens files and prints. Nothing here writes to the terminal.

pub mod access_log;
pub mod analyze;
mod audit;
mod bundle;
pub mod evidence;
pub mod fhir_url;
mod findings;
/// The one timestamp implementation, shared with the approvals ledger.
pub use crate::instant;
pub mod lines;
pub mod report;
mod stream;
pub mod tally;

use crate::grant;
use crate::scope::Letter;

/// A FHIR restful interaction (<http://hl7.org/fhir/restful-interaction>, R4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Interaction {
    Read,
    Vread,
    Update,
    Patch,
    Delete,
    HistoryInstance,
    HistoryType,
    HistorySystem,
    Create,
    SearchType,
    SearchSystem,
    Capabilities,
    /// A batch or transaction Bundle: no scope of its own, each entry is judged alone.
    Batch,
    /// A `$operation`: SMART defines no scope syntax for operations.
    Operation,
}

impl Interaction {
    pub(crate) const ALL: [Interaction; 14] = [
        Interaction::Read,
        Interaction::Vread,
        Interaction::Update,
        Interaction::Patch,
        Interaction::Delete,
        Interaction::HistoryInstance,
        Interaction::HistoryType,
        Interaction::HistorySystem,
        Interaction::Create,
        Interaction::SearchType,
        Interaction::SearchSystem,
        Interaction::Capabilities,
        Interaction::Batch,
        Interaction::Operation,
    ];

    /// The restful-interaction code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Interaction::Read => "read",
            Interaction::Vread => "vread",
            Interaction::Update => "update",
            Interaction::Patch => "patch",
            Interaction::Delete => "delete",
            Interaction::HistoryInstance => "history-instance",
            Interaction::HistoryType => "history-type",
            Interaction::HistorySystem => "history-system",
            Interaction::Create => "create",
            Interaction::SearchType => "search-type",
            Interaction::SearchSystem => "search-system",
            Interaction::Capabilities => "capabilities",
            Interaction::Batch => "batch",
            Interaction::Operation => "operation",
        }
    }

    /// The SMART 2.x permission letter that grants this interaction, taken from the
    /// algebra's own table ([`grant::interactions`]); `None` for interactions no scope
    /// letter names (capabilities, batch/transaction, operations).
    pub(crate) fn letter(self) -> Option<Letter> {
        let code = self.code();
        Letter::ALL
            .into_iter()
            .find(|l| grant::interactions(*l).contains(&code))
    }

    /// Searches are the only interactions whose query shows which resources they touch
    /// (`?category=laboratory`); a read's category is not in its URL.
    pub(crate) fn is_search(self) -> bool {
        matches!(self, Interaction::SearchType | Interaction::SearchSystem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scoped_interaction_has_the_igs_letter() {
        // SMART 2.x: c create; r read, vread, history-instance; u update, patch; d
        // delete; s search-type, search-system, history-type, history-system.
        let expect = [
            (Interaction::Read, Some('r')),
            (Interaction::Vread, Some('r')),
            (Interaction::HistoryInstance, Some('r')),
            (Interaction::Update, Some('u')),
            (Interaction::Patch, Some('u')),
            (Interaction::Delete, Some('d')),
            (Interaction::Create, Some('c')),
            (Interaction::SearchType, Some('s')),
            (Interaction::SearchSystem, Some('s')),
            (Interaction::HistoryType, Some('s')),
            (Interaction::HistorySystem, Some('s')),
            (Interaction::Capabilities, None),
            (Interaction::Batch, None),
            (Interaction::Operation, None),
        ];
        for (i, l) in expect {
            assert_eq!(i.letter().map(Letter::as_char), l, "{}", i.code());
        }
        assert_eq!(expect.len(), Interaction::ALL.len());
    }
}
