#pragma once
// The MiniCPM4 reference data shared by the tokenizer suites.

#include "tokenizer.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace testdata {

inline const std::string kDir = FOLIO_TEST_DATA_DIR "/tokenizer/minicpm4";

struct GoldenText {
    std::string text;
    std::vector<int> ids, idsWithBos;
    std::string decoded;
};

inline nlohmann::json readJson(const std::string& name) {
    std::ifstream in(kDir + "/" + name, std::ios::binary);
    return nlohmann::json::parse(in, nullptr, false); // discarded when unreadable
}

inline std::vector<GoldenText> goldenTexts() {
    std::vector<GoldenText> rows;
    const auto json = readJson("golden_tokenization.json");
    if (json.is_discarded()) return rows;
    for (const auto& r : json["texts"]) {
        rows.push_back({r["text"].get<std::string>(), r["ids"].get<std::vector<int>>(),
                        r["ids_with_bos"].get<std::vector<int>>(),
                        r["decoded"].get<std::string>()});
    }
    return rows;
}

// Loads the reference tokenizer into `out`; the error message otherwise.
inline std::string loadReference(std::optional<sala::Tokenizer>& out) {
    auto result = sala::Tokenizer::load(kDir);
    if (!result) return result.error().message;
    out.emplace(std::move(result).value());
    return {};
}

inline QList<int> qlist(const std::vector<int>& v) {
    return QList<int>(v.begin(), v.end());
}

// Independent of the engine's own UTF-8 checks: Qt replaces anything invalid, so a valid text
// survives the round trip unchanged.
inline bool isValidUtf8(const std::string& s) {
    const QByteArray bytes(s.data(), static_cast<qsizetype>(s.size()));
    return QString::fromUtf8(bytes).toUtf8() == bytes;
}

} // namespace testdata

// Readable QCOMPARE failures for std::string.
namespace QTest {
template <> inline char* toString(const std::string& s) {
    return toString(QString::fromStdString(s));
}
} // namespace QTest
