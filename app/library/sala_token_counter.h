#pragma once
// The engine's MiniCPM tokenizer behind the TokenCounter interface.

#include "result.h"
#include "token_counter.h"

#include <memory>

namespace sala {
class Tokenizer;
}

namespace folio {

class SalaTokenCounter : public TokenCounter {
public:
    // Loads the tokenizer files of `dir` (tokenizer.model and its JSON companions).
    static sala::Result<std::unique_ptr<SalaTokenCounter>> load(const QString& dir);
    ~SalaTokenCounter() override;

    QString name() const override { return name_; }
    qint64 countTokens(QStringView text) const override;

private:
    SalaTokenCounter(std::unique_ptr<sala::Tokenizer> tokenizer, QString name);

    std::unique_ptr<sala::Tokenizer> tokenizer_;
    QString name_;
};

} // namespace folio
