// Behaviour of sala::Tokenizer against the reference tokenizations of MiniCPM4 (the golden file
// and published examples), its decoding, the chat layout, and its handling of broken folders.

#include "chat_format.h"
#include "tokenizer.h"
#include "tokenizer_test_data.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <random>

using testdata::qlist;

namespace {

std::vector<std::string> addedTokenTexts() {
    std::vector<std::string> out;
    const auto json = testdata::readJson("added_tokens.json");
    for (const auto& [content, id] : json.items()) out.push_back(content);
    return out;
}

bool containsAny(const std::string& text, const std::vector<std::string>& needles) {
    for (const auto& n : needles)
        if (text.find(n) != std::string::npos) return true;
    return false;
}

// Random text over scripts, whitespace, control characters and characters the vocabulary only
// has as bytes (rare CJK, emoji, private use). No "▁" (the reference reads it as a space) and
// nothing that can form a special token.
std::string randomText(std::mt19937& gen) {
    static const std::vector<std::string> pool = {"a",
                                                  "Z",
                                                  "q",
                                                  "7",
                                                  " ",
                                                  "  ",
                                                  "\t",
                                                  "\n",
                                                  "\r\n",
                                                  "\r",
                                                  "\x01",
                                                  "\x7f",
                                                  ".",
                                                  "-",
                                                  "=",
                                                  "(",
                                                  "\"",
                                                  "'",
                                                  "#",
                                                  "_",
                                                  "é",
                                                  "e\xCC\x81",
                                                  "ß",
                                                  "Ω",
                                                  "л",
                                                  "中",
                                                  "文",
                                                  "你",
                                                  "好",
                                                  "。",
                                                  "，",
                                                  "日",
                                                  "の",
                                                  "한",
                                                  "𠮷",
                                                  "😀",
                                                  "🚀",
                                                  "👍🏽",
                                                  "\xE2\x80\x8B",
                                                  "\xC2\xA0",
                                                  "ﬁ",
                                                  "\xEE\x80\x80",
                                                  "\xF0\x9F\xA7\xAC",
                                                  "<",
                                                  ">",
                                                  "/",
                                                  "think",
                                                  "Hello",
                                                  " world",
                                                  "```",
                                                  "...",
                                                  "<li>",
                                                  "</li>"};
    std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
    std::uniform_int_distribution<int> length(0, 40);
    std::string s;
    for (int n = length(gen); n > 0; --n) s += pool[pick(gen)];
    return s;
}

bool writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

QByteArray referenceModelBytes() {
    QFile f(QString::fromStdString(testdata::kDir + "/tokenizer.model"));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TokenizerTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void vocabularyFacts();
    void goldenTexts_data();
    void goldenTexts();
    void goldenDecode_data();
    void goldenDecode();
    void goldenChat_data();
    void goldenChat();
    void publishedExamples_data();
    void publishedExamples();
    void segmentsAroundSpecialTokens();
    void randomTextRoundTrip();
    void invalidUtf8Input();
    void decodeSpecialTokens();
    void decodeIgnoresUnknownIds();
    void longText();
    void noThinkingPrefill();
    void modelWithoutJsonFiles();
    void missingFolder();
    void missingModel();
    void corruptModel_data();
    void corruptModel();
    void badJson_data();
    void badJson();
    void conflictingIds();

private:
    sala::Result<sala::Tokenizer> loadWith(const QString& file, const QByteArray& content);

    std::optional<sala::Tokenizer> tok_;
    std::vector<testdata::GoldenText> golden_;
    QByteArray modelBytes_;
};

void TokenizerTest::initTestCase() {
    const std::string error = testdata::loadReference(tok_);
    QVERIFY2(tok_.has_value(), error.c_str());
    golden_ = testdata::goldenTexts();
    QCOMPARE(golden_.size(), size_t(147));
    modelBytes_ = referenceModelBytes();
    QVERIFY(!modelBytes_.isEmpty());
}

void TokenizerTest::vocabularyFacts() {
    const auto& t = *tok_;
    const auto gen = testdata::readJson("generation_config.json");
    QVERIFY(!gen.is_discarded());
    QCOMPARE(t.vocabSize(), 73448);
    QCOMPARE(t.pieceCount(), 73440);
    QCOMPARE(t.bosId(), gen["bos_token_id"].get<int>());
    QCOMPARE(qlist(t.stopIds()), qlist(gen["eos_token_id"].get<std::vector<int>>()));
    QCOMPARE(t.eosId(), t.pieceId("<|im_end|>"));
    QCOMPARE(t.unkId(), 0);
    QCOMPARE(t.tokenPiece(5), std::string("\n"));
    QCOMPARE(t.tokenPiece(59320), std::string("▁"));
    QCOMPARE(t.tokenPiece(1089), std::string("<0x00>"));
    QCOMPARE(t.tokenPiece(1344), std::string("<0xFF>"));
    for (int b = 0; b < 256; ++b) QCOMPARE(t.byteValue(1089 + b), b);
    QCOMPARE(t.byteValue(5), -1);
    QCOMPARE(t.tokenText(t.pieceId("▁Hello")), std::string(" Hello"));
    QVERIFY(!t.isSpecial(5) && !t.isSpecial(59320));
    for (const char* s : {"<unk>", "<s>", "</s>"}) QVERIFY(t.isSpecial(t.pieceId(s)));
    const auto added = testdata::readJson("added_tokens.json");
    QCOMPARE(added.size(), size_t(8));
    for (const auto& [content, id] : added.items()) {
        QCOMPARE(t.tokenPiece(id.get<int>()), content);
        QCOMPARE(t.pieceId(content), id.get<int>());
        QVERIFY(t.isSpecial(id.get<int>()));
    }
    QCOMPARE(t.imStartId(), t.pieceId("<|im_start|>"));
    QCOMPARE(t.imEndId(), t.pieceId("<|im_end|>"));
    QVERIFY(t.imStartId() > 0 && t.imEndId() > 0);
    QCOMPARE(t.tokenPiece(-1), std::string());
    QCOMPARE(t.tokenPiece(t.vocabSize()), std::string());
}

void TokenizerTest::goldenTexts_data() {
    QTest::addColumn<int>("row");
    for (int i = 0; i < static_cast<int>(golden_.size()); ++i)
        QTest::newRow(("text " + std::to_string(i)).c_str()) << i;
}

void TokenizerTest::goldenTexts() {
    QFETCH(int, row);
    const auto& g = golden_[row];
    QCOMPARE(qlist(tok_->encode(g.text, false)), qlist(g.ids));
    QCOMPARE(qlist(tok_->encode(g.text, true)), qlist(g.idsWithBos));
}

void TokenizerTest::goldenDecode_data() {
    goldenTexts_data();
}

void TokenizerTest::goldenDecode() {
    QFETCH(int, row);
    const auto& g = golden_[row];
    QCOMPARE(tok_->decode(g.ids), g.decoded);
    // Where the reference round-trips, so must we (from our own encoding too).
    if (g.decoded == g.text) QCOMPARE(tok_->decode(tok_->encode(g.text, true), true), g.text);
}

void TokenizerTest::goldenChat_data() {
    QTest::addColumn<int>("row");
    const auto json = testdata::readJson("golden_tokenization.json");
    QVERIFY(!json.is_discarded());
    for (int i = 0; i < static_cast<int>(json["chat"].size()); ++i)
        QTest::newRow(("chat " + std::to_string(i)).c_str()) << i;
}

void TokenizerTest::goldenChat() {
    QFETCH(int, row);
    const auto r = testdata::readJson("golden_tokenization.json")["chat"][row];
    std::vector<sala::ChatMessage> messages;
    for (const auto& m : r["messages"])
        messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    const std::string rendered = r["rendered"];
    // The reference rows were rendered with the generation prompt.
    QCOMPARE(sala::renderChat(messages, true), rendered);
    QCOMPARE(qlist(sala::encodeChat(*tok_, messages, true)),
             qlist(r["ids_with_bos"].get<std::vector<int>>()));
    QCOMPARE(qlist(tok_->encode(rendered, false)), qlist(r["ids"].get<std::vector<int>>()));
    const std::string tail = "<|im_start|>assistant\n";
    QCOMPARE(sala::renderChat(messages, false), rendered.substr(0, rendered.size() - tail.size()));
}

void TokenizerTest::publishedExamples_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("addBos");
    QTest::addColumn<QList<int>>("ids");
    const auto json = testdata::readJson("examples.json");
    QVERIFY(!json.is_discarded());
    int n = 0;
    for (const char* list : {"examples_from_public_tests", "derived_examples_not_external"}) {
        for (const auto& e : json[list]) {
            QTest::newRow(("example " + std::to_string(n++)).c_str())
                << QString::fromStdString(e["text"]) << e["add_special_tokens"].get<bool>()
                << qlist(e["ids"].get<std::vector<int>>());
        }
    }
    QVERIFY(n >= 11);
}

void TokenizerTest::publishedExamples() {
    QFETCH(QString, text);
    QFETCH(bool, addBos);
    QFETCH(QList<int>, ids);
    QCOMPARE(qlist(tok_->encode(text.toStdString(), addBos)), ids);
}

// Special tokens cut the text into segments that are encoded on their own.
void TokenizerTest::segmentsAroundSpecialTokens() {
    const auto specials = addedTokenTexts();
    std::vector<std::string> plain;
    for (const auto& g : golden_)
        if (!containsAny(g.text, specials) && !containsAny(g.text, {"<s>", "</s>", "<unk>"}))
            plain.push_back(g.text.substr(0, 200));
    QVERIFY(plain.size() > 100);
    std::mt19937 gen(7);
    std::uniform_int_distribution<size_t> pick(0, plain.size() - 1);
    for (const auto& special : specials) {
        for (int k = 0; k < 10; ++k) {
            const std::string& a = plain[pick(gen)];
            const std::string& b = plain[pick(gen)];
            std::vector<int> expected = tok_->encode(a, false);
            expected.push_back(tok_->pieceId(special));
            const auto tail = tok_->encode(b, false);
            expected.insert(expected.end(), tail.begin(), tail.end());
            QCOMPARE(qlist(tok_->encode(a + special + b, false)), qlist(expected));
        }
    }
}

void TokenizerTest::randomTextRoundTrip() {
    std::mt19937 gen(2024);
    for (int i = 0; i < 500; ++i) {
        const std::string text = randomText(gen);
        const auto ids = tok_->encode(text, true);
        for (int id : ids) QVERIFY(id >= 0 && id < tok_->vocabSize());
        QCOMPARE(tok_->decode(ids, true), text);
        QCOMPARE(tok_->decode(std::span(ids).subspan(1)), text);
    }
}

// Not UTF-8: every stray byte falls back to its byte token, nothing is lost or crashes.
void TokenizerTest::invalidUtf8Input() {
    const std::string text = "ab\xFF\xC3 x\xE4\xBD";
    const auto ids = tok_->encode(text, false);
    for (int id : ids) QVERIFY(id >= 0 && id < tok_->vocabSize());
    std::string bytes;
    for (int id : ids)
        if (tok_->byteValue(id) >= 0) bytes.push_back(static_cast<char>(tok_->byteValue(id)));
    QCOMPARE(bytes, std::string("\xFF\xC3\xE4\xBD"));
    const std::string decoded = tok_->decode(ids);
    QVERIFY(testdata::isValidUtf8(decoded));
    QCOMPARE(decoded, std::string("ab\uFFFD\uFFFD x\uFFFD\uFFFD"));
}

void TokenizerTest::decodeSpecialTokens() {
    // The reference shows special tokens and the space of the segment that follows them
    // ("<s>literal</s>" decodes to "<s> literal</s>", see the golden file).
    const auto ids = tok_->encode("Hello world", true);
    QCOMPARE(tok_->decode(ids), std::string("<s> Hello world"));
    QCOMPARE(tok_->decode(ids, true), std::string("Hello world"));
    const auto chat = sala::encodeChat(*tok_, {{"user", "Hi"}}, true);
    const std::string shown = tok_->decode(chat);
    QVERIFY(shown.find("<|im_start|>") != std::string::npos);
    const std::string hidden = tok_->decode(chat, true);
    QVERIFY(hidden.find("<|im") == std::string::npos && hidden.find("<s>") == std::string::npos);
    QVERIFY(hidden.find("Hi") != std::string::npos);
}

void TokenizerTest::decodeIgnoresUnknownIds() {
    const auto ids = tok_->encode("你好 there", false);
    std::vector<int> noisy = {-5};
    for (int id : ids) {
        noisy.push_back(id);
        noisy.push_back(tok_->vocabSize() + 3);
    }
    QCOMPARE(tok_->decode(noisy), std::string("你好 there"));
    QCOMPARE(tok_->decode(std::vector<int>{}), std::string());
}

void TokenizerTest::longText() {
    std::string text;
    while (text.size() < 2'000'000)
        for (const auto& g : golden_)
            if (g.decoded == g.text) text += g.text + "\n";
    text += std::string(100'000, ' ') + std::string(100'000, 'a') + std::string(50'000, '-');
    QElapsedTimer timer;
    timer.start();
    const auto ids = tok_->encode(text, false);
    const qint64 ms = timer.elapsed();
    qInfo("encoded %zu bytes into %zu tokens in %lld ms", text.size(), ids.size(),
          static_cast<long long>(ms));
    QVERIFY2(ms < 30'000, "encoding 2 MB must not take minutes");
    QCOMPARE(tok_->decode(ids), text);
}

void TokenizerTest::noThinkingPrefill() {
    QCOMPARE(sala::kNoThinkingPrefill, std::string_view("<think>\n\n</think>\n\n"));
    // <think> is ordinary text, no special token (README of the reference data).
    for (int id : tok_->encode(sala::kNoThinkingPrefill, false)) QVERIFY(!tok_->isSpecial(id));
    const auto ids = tok_->encode(std::string(sala::kNoThinkingPrefill), false);
    QCOMPARE(tok_->decode(ids), std::string(sala::kNoThinkingPrefill));
}

sala::Result<sala::Tokenizer> TokenizerTest::loadWith(const QString& file,
                                                      const QByteArray& content) {
    QTemporaryDir dir;
    if (!writeFile(dir.filePath("tokenizer.model"), modelBytes_) ||
        (!file.isEmpty() && !writeFile(dir.filePath(file), content)))
        return sala::makeError(sala::ErrorCode::Io, "test could not write its files");
    return sala::Tokenizer::load(dir.path().toStdString());
}

// Only tokenizer.model: the model's own control tokens; no chat tokens.
void TokenizerTest::modelWithoutJsonFiles() {
    auto loaded = loadWith({}, {});
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().message.c_str());
    const auto& t = *loaded;
    QCOMPARE(t.vocabSize(), 73440);
    QCOMPARE(t.imEndId(), -1);
    QCOMPARE(t.imStartId(), -1);
    QCOMPARE(t.bosId(), t.pieceId("<s>"));
    QCOMPARE(t.eosId(), t.pieceId("</s>"));
    QCOMPARE(qlist(t.stopIds()), QList<int>{t.pieceId("</s>")});
    QVERIFY(t.isSpecial(t.bosId()));
    const auto specials = addedTokenTexts();
    int compared = 0;
    for (const auto& g : golden_) {
        if (containsAny(g.text, specials)) continue;
        QCOMPARE(qlist(t.encode(g.text, true)), qlist(g.idsWithBos));
        ++compared;
    }
    QVERIFY(compared > 100);
}

void TokenizerTest::missingFolder() {
    const std::string path = "/nonexistent/folio/tokenizer-folder";
    auto loaded = sala::Tokenizer::load(path);
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().code, sala::ErrorCode::NotFound);
    QVERIFY(loaded.error().message.find(path) != std::string::npos);
}

void TokenizerTest::missingModel() {
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("tokenizer_config.json"), "{}"));
    auto loaded = sala::Tokenizer::load(dir.path().toStdString());
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().code, sala::ErrorCode::NotFound);
    QVERIFY(loaded.error().message.find("tokenizer.model") != std::string::npos);
}

void TokenizerTest::corruptModel_data() {
    QTest::addColumn<QByteArray>("bytes");
    std::mt19937 gen(99);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int size : {1, 7, 100, 4096, 1 << 20}) {
        QByteArray random(size, '\0');
        for (auto& c : random) c = static_cast<char>(byte(gen));
        QTest::newRow(("random " + std::to_string(size)).c_str()) << random;
    }
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("text") << QByteArray("this is not a sentencepiece model\n");
    const QByteArray model = referenceModelBytes();
    QTest::newRow("truncated") << model.left(model.size() / 2);
    QTest::newRow("first bytes") << model.left(40);
}

void TokenizerTest::corruptModel() {
    QFETCH(QByteArray, bytes);
    QTemporaryDir dir;
    QVERIFY(writeFile(dir.filePath("tokenizer.model"), bytes));
    auto loaded = sala::Tokenizer::load(dir.path().toStdString());
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().code, sala::ErrorCode::Format);
    QVERIFY2(loaded.error().message.find("tokenizer.model") != std::string::npos,
             loaded.error().message.c_str());
}

void TokenizerTest::badJson_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("content");
    for (const char* file :
         {"tokenizer_config.json", "added_tokens.json", "special_tokens_map.json"}) {
        QTest::newRow((std::string(file) + " syntax").c_str()) << file << QByteArray("{ not json");
        QTest::newRow((std::string(file) + " array").c_str()) << file << QByteArray("[1, 2]");
    }
    QTest::newRow("decoder key") << "tokenizer_config.json"
                                 << QByteArray(R"({"added_tokens_decoder": {"x1": {"content":
                                               "<a>"}}})");
    QTest::newRow("decoder content")
        << "tokenizer_config.json" << QByteArray(R"({"added_tokens_decoder": {"9": 3}})");
    QTest::newRow("bos type") << "tokenizer_config.json" << QByteArray(R"({"bos_token": 5})");
    QTest::newRow("negative id") << "added_tokens.json" << QByteArray(R"({"<x>": -4})");
    QTest::newRow("huge id") << "added_tokens.json" << QByteArray(R"({"<x>": 2000000000})");
    QTest::newRow("id type") << "added_tokens.json" << QByteArray(R"({"<x>": "12"})");
    QTest::newRow("empty token") << "added_tokens.json" << QByteArray(R"({"": 73440})");
    QTest::newRow("extra type") << "special_tokens_map.json"
                                << QByteArray(R"({"additional_special_tokens": "<x>"})");
}

void TokenizerTest::badJson() {
    QFETCH(QString, file);
    QFETCH(QByteArray, content);
    auto loaded = loadWith(file, content);
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().code, sala::ErrorCode::Format);
    QVERIFY2(loaded.error().message.find(file.toStdString()) != std::string::npos,
             loaded.error().message.c_str());
}

void TokenizerTest::conflictingIds() {
    // Id 5 is the "\n" piece of the model.
    auto loaded = loadWith("added_tokens.json", R"({"<|im_end|>": 5})");
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().code, sala::ErrorCode::Mismatch);
    QVERIFY(loaded.error().message.find("added_tokens.json") != std::string::npos);
    auto twice = loadWith("added_tokens.json", R"({"<a>": 73440, "<b>": 73440})");
    QVERIFY(!twice.ok());
    QCOMPARE(twice.error().code, sala::ErrorCode::Mismatch);
}

QTEST_GUILESS_MAIN(TokenizerTest)
#include "test_tokenizer.moc"
