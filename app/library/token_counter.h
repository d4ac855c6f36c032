#pragma once
// Counts tokens the way the model will see them. The library depends only on this interface;
// SalaTokenCounter adapts the engine's tokenizer, tests may use simpler counters.

#include <QString>

namespace folio {

class TokenCounter {
public:
    virtual ~TokenCounter() = default;
    // Identifies the tokenizer; stored next to every count so a count from another tokenizer
    // is recognised as stale.
    virtual QString name() const = 0;
    // Tokens of `text` without a beginning-of-sequence token. Must be safe to call from the
    // thread that runs the import.
    virtual qint64 countTokens(QStringView text) const = 0;
};

} // namespace folio
