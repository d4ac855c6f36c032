#pragma once
// A stand-in tokenizer for tests where the real one is not the point: one token per word.

#include "token_counter.h"

#include <QRegularExpression>

class WordCounter : public folio::TokenCounter {
public:
    explicit WordCounter(QString name = QStringLiteral("words")) : name_(std::move(name)) {}
    QString name() const override { return name_; }
    qint64 countTokens(QStringView text) const override {
        qint64 words = 0;
        bool inWord = false;
        for (QChar c : text) {
            const bool space = c.isSpace();
            if (!space && !inWord) ++words;
            inWord = !space;
        }
        return words;
    }

private:
    QString name_;
};
