// The saved-state file's streaming pieces: the checksum given in parts equals the checksum of
// the whole, and a section read piece by piece through a few buffers (with the helper thread
// reading ahead) arrives complete and in order, while damage, a failing consumer and bad
// arguments each end the read with an error and never hang it.

#include "context_file.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <random>
#include <vector>

class TestContextFile : public QObject {
    Q_OBJECT
private slots:
    void checksumInPartsEqualsWhole();
    void piecesArriveInOrder_data();
    void piecesArriveInOrder();
    void damagedPieceFailsChecksum();
    void sinkErrorStopsReading();
    void refusesBadArguments();

private:
    QTemporaryDir tmp_;
};

namespace {

constexpr uint64_t kFingerprint = 0x1234abcd;

std::vector<unsigned char> randomBytes(size_t n, std::mt19937& rng) {
    std::uniform_int_distribution<int> pick(0, 255);
    std::vector<unsigned char> v(n);
    for (unsigned char& b : v) b = static_cast<unsigned char>(pick(rng));
    return v;
}

// A state file holding `payloads` as BF16 sections of layer 0, 1, ...
std::string writeFile(const QTemporaryDir& dir, const char* name,
                      const std::vector<std::vector<unsigned char>>& payloads) {
    const std::string path = dir.filePath(name).toStdString();
    auto writer = sala::ContextFileWriter::create(path, {kFingerprint, 7, 2});
    if (!writer) qFatal("%s", writer.error().message.c_str());
    for (size_t i = 0; i < payloads.size(); ++i) {
        auto st = writer->write(sala::SectionKind::Keys, uint32_t(i), sala::SectionType::BF16,
                                payloads[i].data(), payloads[i].size());
        if (!st.ok()) qFatal("%s", st.error().message.c_str());
    }
    if (!writer->finish().ok()) qFatal("finish failed");
    return path;
}

// The reader of `path`, at its first section (described in `info`).
sala::ContextFileReader readerAtFirstSection(const std::string& path, sala::SectionInfo& info) {
    auto reader = sala::ContextFileReader::open(path, kFingerprint);
    if (!reader) qFatal("%s", reader.error().message.c_str());
    auto more = reader->next(info);
    if (!more || !*more) qFatal("%s: no first section", path.c_str());
    return std::move(reader).value();
}

struct Buffers {
    Buffers(int count, size_t bytes) : storage(count, std::vector<unsigned char>(bytes)) {
        for (auto& s : storage) pointers.push_back(s.data());
    }
    std::vector<std::vector<unsigned char>> storage;
    std::vector<void*> pointers;
};

} // namespace

void TestContextFile::checksumInPartsEqualsWhole() {
    std::mt19937 rng(std::random_device{}());
    for (size_t n :
         {size_t(0), size_t(1), size_t(7), size_t(8), size_t(9), size_t(1000), size_t(65537)}) {
        const std::vector<unsigned char> data = randomBytes(n, rng);
        const uint64_t whole = sala::checksum64(data.data(), n, 5);
        for (int trial = 0; trial < 20; ++trial) {
            sala::Checksum64 sum(n, 5);
            size_t at = 0;
            while (at < n) {
                std::uniform_int_distribution<size_t> step(0, std::min<size_t>(n - at, 23));
                const size_t part = step(rng);
                sum.update(data.data() + at, part);
                at += part;
            }
            QCOMPARE(sum.finish(), whole);
        }
        if (n > 0) {
            // Any flipped bit changes it.
            std::vector<unsigned char> flipped = data;
            flipped[n / 2] ^= 0x10;
            QVERIFY(sala::checksum64(flipped.data(), n, 5) != whole);
        }
    }
}

void TestContextFile::piecesArriveInOrder_data() {
    QTest::addColumn<int>("bytes");
    QTest::addColumn<int>("pieceBytes");
    QTest::addColumn<int>("buffers");
    QTest::newRow("many pieces, 3 buffers") << 100003 << 4096 << 3;
    QTest::newRow("one buffer") << 50001 << 1000 << 1;
    QTest::newRow("exact multiple") << 65536 << 8192 << 4;
    QTest::newRow("one piece") << 777 << 4096 << 2;
    QTest::newRow("empty section") << 0 << 4096 << 2;
}

void TestContextFile::piecesArriveInOrder() {
    QFETCH(int, bytes);
    QFETCH(int, pieceBytes);
    QFETCH(int, buffers);
    std::mt19937 rng(std::random_device{}());
    const std::vector<std::vector<unsigned char>> payloads = {randomBytes(bytes, rng),
                                                              randomBytes(333, rng)};
    const std::string path = writeFile(tmp_, "pieces.state", payloads);
    sala::SectionInfo info;
    auto reader = readerAtFirstSection(path, info);
    Buffers b(buffers, size_t(pieceBytes));
    std::vector<unsigned char> got;
    int calls = 0;
    auto st = reader.readPieces(info.bytes, b.pointers.data(), buffers, size_t(pieceBytes),
                                [&](const void* piece, size_t n) -> sala::Status {
                                    if (n == 0 || n > size_t(pieceBytes))
                                        return sala::makeError(sala::ErrorCode::Internal,
                                                               "bad piece size");
                                    const auto* p = static_cast<const unsigned char*>(piece);
                                    got.insert(got.end(), p, p + n);
                                    ++calls;
                                    return {};
                                });
    QVERIFY2(st.ok(), st.ok() ? "" : st.error().message.c_str());
    QVERIFY(got == payloads[0]);
    QCOMPARE(calls, (bytes + pieceBytes - 1) / pieceBytes);
    // The file position is where the next section starts.
    QVERIFY(*reader.next(info));
    std::vector<unsigned char> second(info.bytes);
    QVERIFY(reader.read(second.data(), info.bytes).ok());
    QVERIFY(second == payloads[1]);
    QVERIFY(!*reader.next(info));
}

void TestContextFile::damagedPieceFailsChecksum() {
    std::mt19937 rng(std::random_device{}());
    const std::string path = writeFile(tmp_, "damaged.state", {randomBytes(40000, rng)});
    {
        // One byte in the middle of the payload (well past the headers) is changed.
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(20000);
        char c = 0;
        f.read(&c, 1);
        c = static_cast<char>(c ^ 0x01);
        f.seekp(20000);
        f.write(&c, 1);
    }
    sala::SectionInfo info;
    auto reader = readerAtFirstSection(path, info);
    Buffers b(2, 4096);
    auto st = reader.readPieces(info.bytes, b.pointers.data(), 2, 4096,
                                [](const void*, size_t) { return sala::Status{}; });
    QVERIFY(!st.ok());
    QVERIFY(QString::fromStdString(st.error().message).contains("checksum"));
}

void TestContextFile::sinkErrorStopsReading() {
    std::mt19937 rng(std::random_device{}());
    const std::string path = writeFile(tmp_, "sink.state", {randomBytes(200000, rng)});
    sala::SectionInfo info;
    auto reader = readerAtFirstSection(path, info);
    Buffers b(2, 1024);
    int calls = 0;
    auto st = reader.readPieces(
        info.bytes, b.pointers.data(), 2, 1024, [&](const void*, size_t) -> sala::Status {
            if (++calls == 3)
                return sala::makeError(sala::ErrorCode::OutOfMemory, "the consumer gave up");
            return {};
        });
    QVERIFY(!st.ok());
    QCOMPARE(st.error().code, sala::ErrorCode::OutOfMemory);
    QCOMPARE(calls, 3);
}

void TestContextFile::refusesBadArguments() {
    std::mt19937 rng(std::random_device{}());
    const std::string path = writeFile(tmp_, "args.state", {randomBytes(100, rng)});
    sala::SectionInfo info;
    auto reader = readerAtFirstSection(path, info);
    Buffers b(1, 64);
    auto sink = [](const void*, size_t) { return sala::Status{}; };
    QVERIFY(!reader.readPieces(info.bytes + 1, b.pointers.data(), 1, 64, sink).ok());
    QVERIFY(!reader.readPieces(info.bytes, b.pointers.data(), 0, 64, sink).ok());
    QVERIFY(!reader.readPieces(info.bytes, b.pointers.data(), 1, 0, sink).ok());
}

QTEST_GUILESS_MAIN(TestContextFile)
#include "test_context_file.moc"
