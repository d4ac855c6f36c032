// The resident prefix and the per-question suffix must tokenize exactly like the whole prompt,
// otherwise reusing the checkpoint would show the model a different text than a fresh prompt.

#include "engine_state.h"
#include "tiny_model.h"

#include "chat_format.h"
#include "tokenizer.h"

#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace folio;

class TestPromptLayout : public QObject {
    Q_OBJECT
private:
    std::optional<sala::Tokenizer> tokenizer_;

    std::vector<int> whole(const QString& system, const QString& doc, const QString& question,
                           bool noThinking) {
        std::vector<sala::ChatMessage> messages;
        if (!system.isEmpty()) messages.push_back({"system", system.toStdString()});
        messages.push_back({"user", doc.toStdString() + "\n\n" + question.toStdString()});
        std::string text = sala::renderChat(messages, true);
        if (noThinking) text += sala::kNoThinkingPrefill;
        return tokenizer_->encode(text, true);
    }

private slots:
    void initTestCase() {
        auto loaded = sala::Tokenizer::load(testutil::tokenizerDataDir());
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
        tokenizer_.emplace(std::move(loaded).value());
    }

    void splitMatchesWhole_data() {
        QTest::addColumn<QString>("system");
        QTest::addColumn<QString>("doc");
        QTest::addColumn<QString>("question");
        QTest::addColumn<bool>("noThinking");
        QTest::newRow("plain") << QString() << "The cat sat on the mat.\nIt was warm."
                               << "Where did the cat sit?" << false;
        QTest::newRow("system+nothink") << "You are concise."
                                        << "Chapter 1\n\nCall me Ishmael."
                                        << "Summarize." << true;
        QTest::newRow("doc ends with newline") << QString() << "def f():\n    return 1\n"
                                               << "What does f return?" << false;
        QTest::newRow("unicode") << QString() << QStringLiteral("Größe: 5 µm — fin.")
                                 << QStringLiteral("Quelle taille ?") << false;
    }

    void splitMatchesWhole() {
        QFETCH(QString, system);
        QFETCH(QString, doc);
        QFETCH(QString, question);
        QFETCH(bool, noThinking);
        std::vector<int> split = documentPrefix(*tokenizer_, system, doc);
        const std::vector<int> suffix = questionTokens(*tokenizer_, {}, question, noThinking);
        split.insert(split.end(), suffix.begin(), suffix.end());
        QCOMPARE(split, whole(system, doc, question, noThinking));
    }

    // A follow-up: the first question closes the document's user turn, its answer is an
    // assistant turn, and the new question opens a user turn of its own.
    void historyMatchesWholeConversation() {
        const QString doc = QStringLiteral("The lighthouse lamp was serviced in March.");
        const QList<ChatTurn> history = {{"When was the lamp serviced?", "In March."},
                                         {"By whom?", "The text does not say."}};
        std::vector<int> split = documentPrefix(*tokenizer_, "Be brief.", doc);
        const std::vector<int> suffix = questionTokens(*tokenizer_, history, "Why then?", false);
        split.insert(split.end(), suffix.begin(), suffix.end());

        const std::vector<sala::ChatMessage> messages = {
            {"system", "Be brief."},
            {"user", doc.toStdString() + "\n\nWhen was the lamp serviced?"},
            {"assistant", "In March."},
            {"user", "By whom?"},
            {"assistant", "The text does not say."},
            {"user", "Why then?"}};
        QCOMPARE(split, tokenizer_->encode(sala::renderChat(messages, true), true));
    }

    void specialTokenTextStaysLiteral() {
        const QString doc = QStringLiteral("a template: <|im_end|> and </s> inside");
        const std::vector<int> ids = documentPrefix(*tokenizer_, QString(), doc);
        // Only the turn opener is a real chat token; the document's copies are plain text.
        int imStart = 0, imEnd = 0, eos = 0;
        for (int id : ids) {
            imStart += id == tokenizer_->imStartId();
            imEnd += id == tokenizer_->imEndId();
            eos += id == tokenizer_->pieceId("</s>");
        }
        QCOMPARE(imStart, 1);
        QCOMPARE(imEnd, 0);
        QCOMPARE(eos, 0);
    }

    void snapshotNamesAreSafeAndDistinct() {
        const QString a = snapshotPath("/tmp/s", "docs:3,5", 0xabc, contentHash("", "one"));
        const QString b = snapshotPath("/tmp/s", "docs:3,5", 0xabc, contentHash("", "two"));
        const QString c = snapshotPath("/tmp/s", "docs:3,5", 0xabd, contentHash("", "one"));
        QVERIFY(a != b);
        QVERIFY(a != c);
        QVERIFY(a.startsWith("/tmp/s/docs_3_5-"));
        QVERIFY(!QFileInfo(a).fileName().contains(':'));
        QCOMPARE(contentHash("x", "y"), contentHash("x", "y"));
        QVERIFY(contentHash("xy", "") != contentHash("x", "y"));
    }
};

QTEST_GUILESS_MAIN(TestPromptLayout)
#include "test_prompt_layout.moc"
