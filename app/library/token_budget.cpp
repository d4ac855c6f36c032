#include "token_budget.h"

namespace folio {

BudgetReport TokenBudget::check(const std::vector<DocumentRecord>& documents, qint64 capacity,
                                qint64 reserved, const QString& tokenizer) {
    BudgetReport report;
    report.capacity = capacity;
    report.reserved = reserved;
    for (const DocumentRecord& doc : documents) {
        if (doc.tokenCount < 0 || (!tokenizer.isEmpty() && doc.tokenizer != tokenizer))
            ++report.uncounted;
        else
            report.used += doc.tokenCount;
    }
    report.fits = report.uncounted == 0 && report.used + reserved <= capacity;
    return report;
}

} // namespace folio
