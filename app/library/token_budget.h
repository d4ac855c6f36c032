#pragma once
// Whether documents fit the context the engine offers.

#include "library_records.h"

#include <QStringList>

#include <vector>

namespace folio {

struct BudgetReport {
    qint64 capacity = 0;  // tokens the engine's context holds
    qint64 reserved = 0;  // kept free for the conversation and the answer
    qint64 used = 0;      // tokens of the documents counted
    qint64 uncounted = 0; // documents without a count under the current tokenizer
    bool fits = false;    // used + reserved <= capacity, and every document was counted
    qint64 remaining() const { return capacity - reserved - used; }
};

class TokenBudget {
public:
    // `tokenizer` is the name of the current tokenizer: counts made by another one do not count.
    // An empty name accepts every count.
    static BudgetReport check(const std::vector<DocumentRecord>& documents, qint64 capacity,
                              qint64 reserved, const QString& tokenizer);
};

} // namespace folio
