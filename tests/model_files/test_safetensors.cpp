// Safetensors parsing and tensor stores: round trips, shards, and every kind of malformed file.

#include "safetensors.h"
#include "safetensors_writer.h"
#include "tensor_store.h"

#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <random>

using namespace sala;
using namespace testutil;
namespace fs = std::filesystem;

Q_DECLARE_METATYPE(std::string)

namespace {

const fs::path kGolden = fs::path(FOLIO_TEST_DATA_DIR) / "golden";
const fs::path kGoldenA = kGolden / "a_micro_dense";

std::string randomBytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
}

TensorData tensor(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
                  size_t elementSize, uint32_t seed) {
    size_t n = elementSize;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    return {name, dtype, std::move(shape), randomBytes(n, seed)};
}

bool viewEquals(const TensorView& v, const TensorData& t) {
    return v.name == t.name && dtypeName(v.dtype) == t.dtype && v.shape == t.shape &&
           v.bytes == t.bytes.size() && std::memcmp(v.data, t.bytes.data(), v.bytes) == 0;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// moc (Qt 6.4) loses track of raw string literals that end in a quote, so indexes are built.
std::string weightMap(const std::map<std::string, std::string>& entries) {
    return nlohmann::json{{"weight_map", entries}}.dump();
}

// One well-formed entry, to embed in otherwise malformed headers.
const char* kGoodEntry = R"("good": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    fs::path path(const std::string& name) const {
        return fs::path(tmp_.path().toStdString()) / name;
    }

private slots:
    void initTestCase() { QVERIFY(tmp_.isValid()); }

    void dtypeNamesRoundTrip() {
        const char* names[] = {"BF16", "F16", "F32", "I32", "I64", "U8",      "F64",    "BOOL",
                               "I8",   "I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2"};
        for (const char* n : names) {
            auto d = parseDType(n);
            QVERIFY2(d.has_value(), n);
            QCOMPARE(std::string(dtypeName(*d)), std::string(n));
        }
        QCOMPARE(dtypeSize(DType::BF16), size_t(2));
        QCOMPARE(dtypeSize(DType::F32), size_t(4));
        QCOMPARE(dtypeSize(DType::I64), size_t(8));
        QVERIFY(!parseDType("bf16").has_value());
        QVERIFY(!parseDType("Q4_0").has_value());
    }

    void roundTrip() {
        std::vector<TensorData> ts = {
            tensor("w.bf16", "BF16", {3, 5}, 2, 1),  tensor("w.f16", "F16", {7}, 2, 2),
            tensor("w.f32", "F32", {2, 2, 2}, 4, 3), tensor("ids.i32", "I32", {4}, 4, 4),
            tensor("ids.i64", "I64", {3}, 8, 5),     tensor("bytes.u8", "U8", {5}, 1, 6),
            tensor("w.f64", "F64", {2}, 8, 7),       tensor("mask", "BOOL", {3}, 1, 8),
            tensor("scalar", "F32", {}, 4, 9),       tensor("empty", "F32", {0, 4}, 4, 10),
        };
        WriteOptions opt;
        opt.metadata = {{"format", "pt"}, {"note", "round trip"}};
        opt.gap = 3; // gaps between tensors are legal
        const fs::path file = path("roundtrip.safetensors");
        QVERIFY(writeBytes(file, serialize(ts, opt)));

        auto f = SafetensorsFile::open(file);
        QVERIFY2(f.ok(), f.ok() ? "" : f.error().message.c_str());
        QCOMPARE(f->tensors().size(), ts.size());
        for (const auto& t : ts) {
            const TensorView* v = f->find(t.name);
            QVERIFY2(v != nullptr, t.name.c_str());
            QVERIFY2(viewEquals(*v, t), t.name.c_str());
            QCOMPARE(v->file, file.string());
        }
        QCOMPARE(f->find("scalar")->numel(), int64_t(1));
        QCOMPARE(f->find("empty")->numel(), int64_t(0));
        QCOMPARE(f->find("w.f32")->numel(), int64_t(8));
        QVERIFY(f->find("missing") == nullptr);
        QVERIFY(f->metadata() == opt.metadata);
        QCOMPARE(f->dataOffset() % 8, size_t(0));
        QVERIFY(contains(f->headerJson(), headerFor(ts, opt)));
    }

    void storeOpensFileAndFolder() {
        auto byFile = TensorStore::openFile(kGoldenA / "model.safetensors");
        QVERIFY2(byFile.ok(), byFile.ok() ? "" : byFile.error().message.c_str());
        auto byFolder = TensorStore::openFolder(kGoldenA);
        QVERIFY2(byFolder.ok(), byFolder.ok() ? "" : byFolder.error().message.c_str());
        QCOMPARE(byFile->names(), byFolder->names());
        QVERIFY(!byFolder->configText().empty());
        QVERIFY(byFile->configText().empty());

        const auto original = readTensors(kGoldenA / "model.safetensors");
        QCOMPARE(byFolder->size(), original.size());
        size_t total = 0;
        for (const auto& t : original) {
            QVERIFY2(viewEquals(*byFolder->find(t.name), t), t.name.c_str());
            total += t.bytes.size();
        }
        QCOMPARE(byFolder->totalBytes(), total);
    }

    void shardedFolder() {
        const auto original = readTensors(kGoldenA / "model.safetensors");
        QVERIFY(!original.empty());
        const fs::path dir = path("sharded");
        QVERIFY(writeModelFolder(dir, readBytes(kGoldenA / "config.json"), original, 3));
        auto store = TensorStore::openFolder(dir);
        QVERIFY2(store.ok(), store.ok() ? "" : store.error().message.c_str());
        QCOMPARE(store->files().size(), size_t(3));
        QCOMPARE(store->size(), original.size());
        for (const auto& t : original) {
            const TensorView* v = store->find(t.name);
            QVERIFY2(v != nullptr && viewEquals(*v, t), t.name.c_str());
        }
        // Each tensor comes from the shard the index names.
        const TensorView* first = store->find(original[0].name);
        QCOMPARE(fs::path(first->file).filename().string(), shardName(0, 3));
        const TensorView* second = store->find(original[1].name);
        QCOMPARE(fs::path(second->file).filename().string(), shardName(1, 3));
    }

    void badIndex_data() {
        QTest::addColumn<std::string>("indexText");
        QTest::addColumn<int>("code");
        QTest::addColumn<std::string>("mentions");
        const std::string s0 = shardName(0, 2), s1 = shardName(1, 2);
        QTest::newRow("not json") << std::string("{\"weight_map\": ") << int(ErrorCode::Format)
                                  << std::string("model.safetensors.index.json");
        QTest::newRow("array") << std::string("[1, 2]") << int(ErrorCode::Format)
                               << std::string("model.safetensors.index.json");
        QTest::newRow("no weight_map") << std::string(R"({"metadata": {}})")
                                       << int(ErrorCode::Format) << std::string("weight_map");
        QTest::newRow("shard missing")
            << weightMap({{"a", s0}, {"b", "model-gone.safetensors"}}) << int(ErrorCode::NotFound)
            << std::string("model-gone.safetensors");
        QTest::newRow("shard outside folder")
            << weightMap({{"a", "../x.safetensors"}}) << int(ErrorCode::Format)
            << std::string("../x.safetensors");
        QTest::newRow("shard not a string") << std::string(R"({"weight_map": {"a": 3}})")
                                            << int(ErrorCode::Format) << std::string("\"a\"");
        QTest::newRow("wrong shard") << weightMap({{"a", s1}, {"b", s1}, {"c", s1}})
                                     << int(ErrorCode::Format) << std::string("\"a\"");
        QTest::newRow("not in any shard")
            << weightMap({{"a", s0}, {"b", s1}, {"c", s0}, {"zz", s1}}) << int(ErrorCode::Format)
            << std::string("\"zz\"");
        QTest::newRow("unlisted tensor")
            << weightMap({{"a", s0}, {"b", s1}}) << int(ErrorCode::Format) << std::string("\"c\"");
    }
    void badIndex() {
        QFETCH(std::string, indexText);
        QFETCH(int, code);
        QFETCH(std::string, mentions);
        // Shard 0 holds a and c, shard 1 holds b.
        const fs::path dir = path(std::string("index_") + QTest::currentDataTag());
        std::vector<TensorData> ts = {tensor("a", "F32", {2}, 4, 1), tensor("b", "F32", {3}, 4, 2),
                                      tensor("c", "F32", {4}, 4, 3)};
        QVERIFY(writeModelFolder(dir, "", ts, 2));
        QVERIFY(writeBytes(dir / "model.safetensors.index.json", indexText));
        auto store = TensorStore::openFolder(dir);
        QVERIFY(!store.ok());
        QCOMPARE(int(store.error().code), code);
        QVERIFY2(contains(store.error().message, mentions), store.error().message.c_str());
    }

    void duplicateAcrossShards() {
        const fs::path dir = path("dup_shards");
        const std::string s0 = shardName(0, 2), s1 = shardName(1, 2);
        fs::create_directories(dir);
        QVERIFY(writeBytes(dir / s0, serialize({tensor("a", "F32", {2}, 4, 1)})));
        QVERIFY(writeBytes(
            dir / s1, serialize({tensor("a", "F32", {2}, 4, 2), tensor("b", "F32", {2}, 4, 3)})));
        QVERIFY(
            writeBytes(dir / "model.safetensors.index.json", weightMap({{"a", s0}, {"b", s1}})));
        auto store = TensorStore::openFolder(dir);
        QVERIFY(!store.ok());
        QCOMPARE(store.error().code, ErrorCode::Format);
        QVERIFY2(contains(store.error().message, s0) && contains(store.error().message, s1),
                 store.error().message.c_str());
    }

    void missingFolderOrWeights() {
        auto none = TensorStore::openFolder(path("does_not_exist"));
        QVERIFY(!none.ok());
        QCOMPARE(none.error().code, ErrorCode::NotFound);
        fs::create_directories(path("empty_folder"));
        auto empty = TensorStore::openFolder(path("empty_folder"));
        QVERIFY(!empty.ok());
        QCOMPARE(empty.error().code, ErrorCode::NotFound);
        QVERIFY(contains(empty.error().message, "model.safetensors"));
        auto file = SafetensorsFile::open(path("nope.safetensors"));
        QVERIFY(!file.ok());
        QCOMPARE(file.error().code, ErrorCode::NotFound);
    }

    void malformed_data() {
        QTest::addColumn<std::string>("bytes");
        QTest::addColumn<std::string>("tensor"); // must be named in the message ("" = none)
        const std::string f32x2(8, '\1');
        auto header = [&](const std::string& entries) {
            return rawFile("{" + entries + "}", f32x2);
        };
        auto entry = [](const std::string& name, const std::string& body) {
            return "\"" + name + "\": {" + body + "}";
        };
        QTest::newRow("empty file") << std::string() << std::string();
        QTest::newRow("7 bytes") << std::string(7, '\0') << std::string();
        QTest::newRow("length past end") << rawFile("{}", "", 3) << std::string();
        QTest::newRow("length absurd") << rawFile("{}", "", 200'000'000) << std::string();
        QTest::newRow("length 2^64-1") << rawFile("{}", "", UINT64_MAX) << std::string();
        QTest::newRow("not json") << rawFile("{\"a\": ", f32x2) << std::string();
        QTest::newRow("json array") << rawFile("[1, 2]", f32x2) << std::string();
        QTest::newRow("json string") << rawFile("\"x\"", f32x2) << std::string();
        QTest::newRow("entry not object")
            << header(std::string(kGoodEntry) + R"(, "bad": 5)") << std::string("bad");
        QTest::newRow("no dtype") << header(entry("bad", R"("shape": [2], "data_offsets": [0, 8])"))
                                  << std::string("bad");
        QTest::newRow("no shape") << header(
                                         entry("bad", R"("dtype": "F32", "data_offsets": [0, 8])"))
                                  << std::string("bad");
        QTest::newRow("no offsets")
            << header(entry("bad", R"("dtype": "F32", "shape": [2])")) << std::string("bad");
        QTest::newRow("unknown dtype")
            << header(entry("bad", R"("dtype": "Q4", "shape": [2], "data_offsets": [0, 8])"))
            << std::string("bad");
        QTest::newRow("dtype not string")
            << header(entry("bad", R"("dtype": 4, "shape": [2], "data_offsets": [0, 8])"))
            << std::string("bad");
        QTest::newRow("negative shape")
            << header(entry("bad", R"("dtype": "F32", "shape": [-2], "data_offsets": [0, 8])"))
            << std::string("bad");
        QTest::newRow("fractional shape")
            << header(entry("bad", R"("dtype": "F32", "shape": [2.5], "data_offsets": [0, 8])"))
            << std::string("bad");
        QTest::newRow("string shape")
            << header(entry("bad", R"("dtype": "F32", "shape": ["2"], "data_offsets": [0, 8])"))
            << std::string("bad");
        QTest::newRow("shape not list")
            << header(entry("bad", R"("dtype": "F32", "shape": 2, "data_offsets": [0, 8])"))
            << std::string("bad");
        QTest::newRow("shape overflow")
            << header(entry("bad", R"("dtype": "F32", "shape": [4294967296, 4294967296, 16],)"
                                   R"( "data_offsets": [0, 0])"))
            << std::string("bad");
        QTest::newRow("shape over int64")
            << header(entry("bad", R"("dtype": "U8", "shape": [18446744073709551615],)"
                                   R"( "data_offsets": [0, 8])"))
            << std::string("bad");
        QTest::newRow("size mismatch")
            << header(entry("bad", R"("dtype": "F32", "shape": [3], "data_offsets": [0, 8])"))
            << std::string("bad");
        QTest::newRow("offsets past data")
            << header(entry("bad", R"("dtype": "F32", "shape": [4], "data_offsets": [0, 16])"))
            << std::string("bad");
        QTest::newRow("offsets far past data")
            << header(entry("bad",
                            R"("dtype": "U8", "shape": [8],)"
                            R"( "data_offsets": [18446744073709551600, 18446744073709551608])"))
            << std::string("bad");
        QTest::newRow("begin after end")
            << header(entry("bad", R"("dtype": "F32", "shape": [0], "data_offsets": [8, 0])"))
            << std::string("bad");
        QTest::newRow("negative offset")
            << header(entry("bad", R"("dtype": "F32", "shape": [2], "data_offsets": [-8, 0])"))
            << std::string("bad");
        QTest::newRow("one offset")
            << header(entry("bad", R"("dtype": "F32", "shape": [2], "data_offsets": [8])"))
            << std::string("bad");
        QTest::newRow("overlap")
            << header(std::string(kGoodEntry) + ", " +
                      entry("bad", R"("dtype": "F32", "shape": [1], "data_offsets": [4, 8])"))
            << std::string("bad");
        QTest::newRow("duplicate name")
            << header(std::string(kGoodEntry) + ", " + kGoodEntry) << std::string("good");
        QTest::newRow("metadata not object")
            << header(std::string(kGoodEntry) + R"(, "__metadata__": 1)")
            << std::string("__metadata__");
        QTest::newRow("metadata value not string")
            << header(std::string(kGoodEntry) + R"(, "__metadata__": {"k": 1})")
            << std::string("k");
    }
    void malformed() {
        QFETCH(std::string, bytes);
        QFETCH(std::string, tensor);
        const fs::path file = path(std::string("bad_") + QTest::currentDataTag() + ".safetensors");
        QVERIFY(writeBytes(file, bytes));
        auto f = SafetensorsFile::open(file);
        QVERIFY(!f.ok());
        QCOMPARE(f.error().code, ErrorCode::Format);
        QVERIFY2(contains(f.error().message, file.string()), f.error().message.c_str());
        if (!tensor.empty())
            QVERIFY2(contains(f.error().message, "\"" + tensor + "\""), f.error().message.c_str());
        // The store passes the same error through.
        auto store = TensorStore::openFile(file);
        QVERIFY(!store.ok());
        QCOMPARE(store.error().message, f.error().message);
    }

    void gapsAndZeroSizedTensorsAreAllowed() {
        const std::string data(24, '\3');
        const std::string h = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]},)"
                              R"( "z": {"dtype": "F32", "shape": [0], "data_offsets": [20, 20]},)"
                              R"( "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}})";
        const fs::path file = path("gaps.safetensors");
        QVERIFY(writeBytes(file, rawFile(h, data)));
        auto f = SafetensorsFile::open(file);
        QVERIFY2(f.ok(), f.ok() ? "" : f.error().message.c_str());
        QCOMPARE(f->tensors().size(), size_t(3));
        QCOMPARE(f->find("a")->data - f->find("b")->data, std::ptrdiff_t(16));
    }

    // Every prefix of a real file is either the whole file or an error, never a crash.
    void truncatedFilesFail() {
        const std::string bytes = readBytes(kGoldenA / "model.safetensors");
        QVERIFY(bytes.size() > 4096);
        auto good = SafetensorsFile::open(kGoldenA / "model.safetensors");
        QVERIFY(good.ok());
        const size_t headerEnd = good->dataOffset();
        std::vector<size_t> lengths;
        for (size_t n = 0; n <= headerEnd + 64; ++n) lengths.push_back(n);
        for (size_t n = headerEnd + 64; n < bytes.size(); n += bytes.size() / 16)
            lengths.push_back(n);
        lengths.push_back(bytes.size() - 1);
        const fs::path file = path("truncated.safetensors");
        for (size_t n : lengths) {
            QVERIFY(writeBytes(file, bytes.substr(0, n)));
            auto f = SafetensorsFile::open(file);
            QVERIFY2(!f.ok(), std::to_string(n).c_str());
            QCOMPARE(f.error().code, ErrorCode::Format);
        }
    }

    // Corrupting any single header byte either still parses to views inside the file without
    // overlaps, or fails cleanly.
    void corruptedHeadersStayInBounds() {
        std::vector<TensorData> ts;
        const char* dtypes[] = {"BF16", "F32", "U8", "I64"};
        const size_t sizes[] = {2, 4, 1, 8};
        for (int i = 0; i < 24; ++i)
            ts.push_back(tensor("model.layers." + std::to_string(i) + ".w", dtypes[i % 4],
                                {1 + i % 3, 2 + i % 5}, sizes[i % 4], uint32_t(i)));
        WriteOptions opt;
        opt.metadata = {{"format", "pt"}};
        const std::string bytes = serialize(ts, opt);
        const size_t headerEnd = bytes.size() - [&] {
            size_t n = 0;
            for (const auto& t : ts) n += t.bytes.size();
            return n;
        }();
        const fs::path file = path("corrupt.safetensors");
        const char replacements[] = {'9', '-', '}', '"', '\0', 'x'};
        int opened = 0, failed = 0;
        for (size_t pos = 0; pos < headerEnd; ++pos) {
            std::string copy = bytes;
            copy[pos] = replacements[pos % sizeof replacements];
            if (copy == bytes) continue;
            QVERIFY(writeBytes(file, copy));
            auto f = SafetensorsFile::open(file);
            if (!f.ok()) {
                QVERIFY(!f.error().message.empty());
                ++failed;
                continue;
            }
            ++opened;
            const std::byte* begin = f->mapping().data() + f->dataOffset();
            const std::byte* end = f->mapping().data() + f->mapping().size();
            std::vector<std::pair<const std::byte*, const std::byte*>> spans;
            for (const auto& t : f->tensors()) {
                QVERIFY(t.data >= begin && t.data + t.bytes <= end);
                QCOMPARE(t.bytes, size_t(t.numel()) * dtypeSize(t.dtype));
                if (t.bytes > 0) spans.push_back({t.data, t.data + t.bytes});
            }
            std::sort(spans.begin(), spans.end());
            for (size_t i = 1; i < spans.size(); ++i)
                QVERIFY(spans[i].first >= spans[i - 1].second);
        }
        QVERIFY(failed > 0);
        QVERIFY(opened > 0); // e.g. digits changed inside a tensor name
    }

    void fingerprint() {
        const auto original = readTensors(kGoldenA / "model.safetensors");
        const std::string config = readBytes(kGoldenA / "config.json");
        const fs::path dir = path("fp_base");
        QVERIFY(writeModelFolder(dir, config, original));
        auto a = TensorStore::openFolder(dir);
        auto b = TensorStore::openFolder(dir);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a->fingerprint(), b->fingerprint());

        // Same bytes, one tensor's header entry changed.
        auto reshaped = original;
        TensorData* t = findTensor(reshaped, "model.layers.0.self_attn.o_proj.weight");
        QVERIFY(t != nullptr && t->shape.size() == 2);
        std::swap(t->shape[0], t->shape[1]);
        QVERIFY(writeModelFolder(path("fp_reshaped"), config, reshaped));
        auto c = TensorStore::openFolder(path("fp_reshaped"));
        QVERIFY(c.ok());
        QVERIFY(c->fingerprint() != a->fingerprint());

        QVERIFY(writeModelFolder(path("fp_config"), config + "\n", original));
        auto d = TensorStore::openFolder(path("fp_config"));
        QVERIFY(d.ok());
        QVERIFY(d->fingerprint() != a->fingerprint());

        auto retrained = original;
        retrained.front().bytes[0] ^= 1;
        QVERIFY(writeModelFolder(path("fp_data"), config, retrained));
        auto e = TensorStore::openFolder(path("fp_data"));
        QVERIFY(e.ok());
        QVERIFY(e->fingerprint() != a->fingerprint());

        auto other = TensorStore::openFolder(kGolden / "e_headdim128");
        QVERIFY(other.ok());
        QVERIFY(other->fingerprint() != a->fingerprint());
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
