#include "sala_token_counter.h"

#include "tokenizer.h"

#include <QCryptographicHash>
#include <QFile>

namespace folio {

SalaTokenCounter::SalaTokenCounter(std::unique_ptr<sala::Tokenizer> tokenizer, QString name)
    : tokenizer_(std::move(tokenizer)), name_(std::move(name)) {}

SalaTokenCounter::~SalaTokenCounter() = default;

sala::Result<std::unique_ptr<SalaTokenCounter>> SalaTokenCounter::load(const QString& dir) {
    auto tokenizer = sala::Tokenizer::load(QFile::encodeName(dir).toStdString());
    if (!tokenizer) return tokenizer.error();
    // The model file's hash names the tokenizer: counts stay valid exactly as long as it is used.
    QFile model(dir + QStringLiteral("/tokenizer.model"));
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (model.open(QIODevice::ReadOnly)) hash.addData(&model);
    const QString name = QStringLiteral("sentencepiece-%1:vocab%2")
                             .arg(QString::fromLatin1(hash.result().toHex().left(16)))
                             .arg(tokenizer->vocabSize());
    return std::unique_ptr<SalaTokenCounter>(
        new SalaTokenCounter(std::make_unique<sala::Tokenizer>(std::move(*tokenizer)), name));
}

qint64 SalaTokenCounter::countTokens(QStringView text) const {
    if (text.isEmpty()) return 0;
    const QByteArray utf8 = text.toUtf8();
    return qint64(
        tokenizer_->encode(std::string_view(utf8.constData(), size_t(utf8.size())), false).size());
}

} // namespace folio
