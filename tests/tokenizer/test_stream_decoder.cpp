// Behaviour of sala::StreamDecoder: every piece of streamed text is valid UTF-8, byte-fallback
// characters are held back until complete, and the streamed text equals Tokenizer::decode.

#include "stream_decoder.h"
#include "tokenizer.h"
#include "tokenizer_test_data.h"

#include <QtTest>

#include <cstdio>
#include <random>

using testdata::isValidUtf8;

namespace {

const std::string kFffd = "\uFFFD";

struct Streamed {
    std::string text;
    bool allValid = true;
};

Streamed stream(const sala::Tokenizer& tok, const std::vector<int>& ids, bool skipSpecial = false) {
    sala::StreamDecoder decoder(tok, skipSpecial);
    Streamed out;
    for (int id : ids) {
        const std::string piece = decoder.push(id);
        out.allValid = out.allValid && isValidUtf8(piece);
        out.text += piece;
    }
    const std::string rest = decoder.flush();
    out.allValid = out.allValid && isValidUtf8(rest);
    out.text += rest;
    return out;
}

// Whether every run of byte tokens (the unit decode works on) is valid UTF-8.
bool byteRunsValid(const sala::Tokenizer& tok, const std::vector<int>& ids) {
    std::string run;
    for (int id : ids) {
        if (tok.tokenPiece(id).empty()) continue;
        if (tok.byteValue(id) >= 0) {
            run.push_back(static_cast<char>(tok.byteValue(id)));
            continue;
        }
        if (!isValidUtf8(run)) return false;
        run.clear();
    }
    return isValidUtf8(run);
}

} // namespace

class StreamDecoderTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void goldenRows();
    void randomTexts();
    void randomIds();
    void holdsBackUnfinishedCharacters();
    void clearlyInvalidBytes();
    void unfinishedAtFlush();
    void leadingSpace();
    void ignoredIdsKeepBytesTogether();
    void skipSpecial();

private:
    int byteToken(int b) const {
        char piece[8];
        std::snprintf(piece, sizeof piece, "<0x%02X>", b);
        return tok_->pieceId(piece);
    }
    std::vector<int> byteTokens(const std::string& bytes) const {
        std::vector<int> ids;
        for (char c : bytes) ids.push_back(byteToken(static_cast<unsigned char>(c)));
        return ids;
    }

    std::optional<sala::Tokenizer> tok_;
};

void StreamDecoderTest::initTestCase() {
    const std::string error = testdata::loadReference(tok_);
    QVERIFY2(tok_.has_value(), error.c_str());
    for (int b = 0; b < 256; ++b) QVERIFY(byteToken(b) >= 0);
}

void StreamDecoderTest::goldenRows() {
    const auto rows = testdata::goldenTexts();
    QVERIFY(!rows.empty());
    for (const auto& g : rows) {
        for (const auto* ids : {&g.ids, &g.idsWithBos}) {
            const Streamed s = stream(*tok_, *ids);
            QVERIFY(s.allValid);
            QCOMPARE(s.text, tok_->decode(*ids));
        }
        QCOMPARE(stream(*tok_, g.ids).text, g.decoded);
    }
}

// Texts rich in characters that only exist as byte tokens (rare CJK, emoji, private use).
void StreamDecoderTest::randomTexts() {
    const std::vector<std::string> pool = {
        "𠮷", "😀", "🚀",  "👍🏽", "🧬", "\xEE\x80\x80", "中",       "한국어",
        "é",  " ", "\n", "abc",      "你好", "\x01",         "\xC2\xA0", "Ω"};
    std::mt19937 gen(11);
    std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
    std::uniform_int_distribution<int> length(1, 30);
    int byteTokensSeen = 0;
    for (int i = 0; i < 400; ++i) {
        std::string text;
        for (int n = length(gen); n > 0; --n) text += pool[pick(gen)];
        const auto ids = tok_->encode(text, i % 2 == 0);
        for (int id : ids) byteTokensSeen += tok_->byteValue(id) >= 0;
        const Streamed s = stream(*tok_, ids, true);
        QVERIFY(s.allValid);
        QCOMPARE(s.text, text);
        QCOMPARE(s.text, tok_->decode(ids, true));
    }
    QVERIFY(byteTokensSeen > 1000);
}

// Arbitrary ids, most of them byte tokens: pieces of real characters, stray bytes, or whole
// characters, between ordinary and special tokens.
void StreamDecoderTest::randomIds() {
    const std::vector<std::string> chars = {"你", "😀", "é", "𠮷", "\xEF\xBF\xBD", "A"};
    std::mt19937 gen(5);
    std::uniform_int_distribution<int> anyId(-2, tok_->vocabSize() + 2);
    std::uniform_int_distribution<int> anyByte(0, 255);
    std::uniform_int_distribution<int> kind(0, 9);
    std::uniform_int_distribution<size_t> pickChar(0, chars.size() - 1);
    int comparedWithDecode = 0;
    for (int i = 0; i < 2000; ++i) {
        std::vector<int> ids;
        for (int n = 1 + i % 25; n > 0; --n) {
            const int k = kind(gen);
            if (k < 3) {
                ids.push_back(anyId(gen));
            } else if (k < 5) {
                ids.push_back(byteToken(anyByte(gen)));
            } else {
                const auto more = byteTokens(chars[pickChar(gen)]);
                ids.insert(ids.end(), more.begin(), more.end());
            }
        }
        for (bool skip : {false, true}) {
            const Streamed s = stream(*tok_, ids, skip);
            QVERIFY(s.allValid);
            if (byteRunsValid(*tok_, ids)) {
                QCOMPARE(s.text, tok_->decode(ids, skip));
                ++comparedWithDecode;
            }
        }
    }
    QVERIFY(comparedWithDecode > 200);
}

void StreamDecoderTest::holdsBackUnfinishedCharacters() {
    for (const std::string ch : {"你", "😀", "é", "𠮷"}) {
        sala::StreamDecoder decoder(*tok_);
        const auto ids = byteTokens(ch);
        for (size_t k = 0; k + 1 < ids.size(); ++k) QCOMPARE(decoder.push(ids[k]), std::string());
        QCOMPARE(decoder.push(ids.back()), ch);
        QCOMPARE(decoder.flush(), std::string());
    }
}

void StreamDecoderTest::clearlyInvalidBytes() {
    sala::StreamDecoder decoder(*tok_);
    QCOMPARE(decoder.push(byteToken(0xFF)), kFffd); // never starts a character
    QCOMPARE(decoder.push(byteToken(0xE4)), std::string());
    QCOMPARE(decoder.push(byteToken(0x41)), kFffd + "A"); // E4 can not go on with 41
    QCOMPARE(decoder.push(byteToken(0xBD)), kFffd);       // continuation without a start
    QCOMPARE(decoder.push(byteToken(0xED)), std::string());
    QCOMPARE(decoder.push(byteToken(0xA0)), kFffd + kFffd); // a surrogate
    QCOMPARE(decoder.flush(), std::string());
}

void StreamDecoderTest::unfinishedAtFlush() {
    const auto ids = byteTokens("\xE4\xBD");
    sala::StreamDecoder decoder(*tok_);
    QCOMPARE(decoder.push(ids[0]), std::string());
    QCOMPARE(decoder.push(ids[1]), std::string());
    const std::string rest = decoder.flush();
    QCOMPARE(rest, kFffd + kFffd);
    QCOMPARE(rest, tok_->decode(ids));
    // An unfinished character before an ordinary token is given up at that token.
    std::vector<int> mixed = ids;
    mixed.push_back(tok_->pieceId("▁the"));
    const Streamed s = stream(*tok_, mixed);
    QVERIFY(s.allValid);
    QCOMPARE(s.text, tok_->decode(mixed));
}

// decode drops one leading space of the whole text, so the stream drops it from its first text.
void StreamDecoderTest::leadingSpace() {
    for (const std::string text : {"Hello world", "  two spaces", " ", "\n", "😀 x"}) {
        const auto ids = tok_->encode(text, false);
        sala::StreamDecoder decoder(*tok_);
        std::string out;
        for (int id : ids) out += decoder.push(id);
        out += decoder.flush();
        QCOMPARE(out, text);
    }
    sala::StreamDecoder decoder(*tok_);
    QCOMPARE(decoder.push(tok_->pieceId("▁Hello")), std::string("Hello"));
    QCOMPARE(decoder.push(tok_->pieceId("▁world")), std::string(" world"));
    // A new text after flush starts over.
    QCOMPARE(decoder.flush(), std::string());
    QCOMPARE(decoder.push(tok_->pieceId("▁Hello")), std::string("Hello"));
}

void StreamDecoderTest::ignoredIdsKeepBytesTogether() {
    const auto ids = byteTokens("你");
    sala::StreamDecoder decoder(*tok_);
    std::string out = decoder.push(ids[0]);
    out += decoder.push(-1);
    out += decoder.push(ids[1]);
    out += decoder.push(tok_->vocabSize());
    out += decoder.push(ids[2]);
    QCOMPARE(out, std::string("你"));
}

void StreamDecoderTest::skipSpecial() {
    std::vector<int> ids = {tok_->bosId()};
    const auto body = tok_->encode("答案是 42", false);
    ids.insert(ids.end(), body.begin(), body.end());
    ids.push_back(tok_->imEndId());
    QCOMPARE(stream(*tok_, ids, true).text, tok_->decode(ids, true));
    QCOMPARE(stream(*tok_, ids, true).text, std::string("答案是 42"));
    QCOMPARE(stream(*tok_, ids, false).text, tok_->decode(ids, false));
    // Skipped specials are invisible even inside a byte run, as in decode.
    auto split = byteTokens("😀");
    split.insert(split.begin() + 2, tok_->imEndId());
    QCOMPARE(stream(*tok_, split, true).text, std::string("😀"));
    QCOMPARE(tok_->decode(split, true), std::string("😀"));
}

QTEST_GUILESS_MAIN(StreamDecoderTest)
#include "test_stream_decoder.moc"
