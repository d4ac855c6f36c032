// folio-cli as a user runs it: exit statuses, the check-golden last line, token ids,
// streamed generation and clear errors.

#include "tiny_model.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void checkGoldenPasses();
    void checkGoldenFailsOnTightTolerance();
    void checkGoldenReportsMissingCase();
    void tokenizePrintsReferenceIds();
    void generateStreamsText();
    void generateReportsLoading();
    void generateChatAndSampling();
    void generateRejectsBadInput();
    void usageErrors();

private:
    struct Run {
        int code = -1;
        QString out, err;
    };
    Run run(const QStringList& args);

    QTemporaryDir tmp_;
    QString model_;
};

TestCli::Run TestCli::run(const QStringList& args) {
    QProcess p;
    p.start(QStringLiteral(FOLIO_CLI_PATH), args);
    Run r;
    if (!p.waitForFinished(300000)) return r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

void TestCli::initTestCase() {
    QVERIFY(tmp_.isValid());
    model_ = tmp_.filePath("tiny");
    QVERIFY(testutil::writeTinyModel(model_.toStdString()));
}

namespace {
QString lastLine(const QString& text) {
    const QStringList lines = text.trimmed().split('\n');
    return lines.isEmpty() ? QString() : lines.last();
}
const QString kGolden = QStringLiteral(FOLIO_TEST_DATA_DIR "/golden/");
} // namespace

void TestCli::checkGoldenPasses() {
    const Run r = run({"check-golden", kGolden + "d_decode_boundary", "--backend", "cpu"});
    QCOMPARE(r.code, 0);
    const QRegularExpression last(QStringLiteral("^max_rel_err=([0-9.e+-]+) tokens=match$"));
    const auto m = last.match(lastLine(r.out));
    QVERIFY2(m.hasMatch(), qPrintable(r.out));
    QVERIFY(m.captured(1).toDouble() < 1e-4);
}

void TestCli::checkGoldenFailsOnTightTolerance() {
    // The same case with an impossible tolerance must fail, with the same last line.
    const QString dir = tmp_.filePath("strict");
    QDir().mkpath(dir);
    for (const char* f : {"config.json", "model.safetensors", "expected.safetensors"})
        QVERIFY(QFile::copy(kGolden + "a_micro_dense/" + f, dir + "/" + f));
    QFile in(kGolden + "a_micro_dense/case.json");
    QVERIFY(in.open(QIODevice::ReadOnly));
    QByteArray text = in.readAll();
    text.replace("\"logits_max_rel_l2\": 0.0001", "\"logits_max_rel_l2\": 1e-12");
    QFile out(dir + "/case.json");
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(text);
    out.close();
    const Run r = run({"check-golden", dir, "--backend", "cpu"});
    QCOMPARE(r.code, 1);
    QVERIFY(lastLine(r.out).startsWith("max_rel_err="));
    QVERIFY(lastLine(r.out).endsWith("tokens=match"));
}

void TestCli::checkGoldenReportsMissingCase() {
    const Run r = run({"check-golden", tmp_.filePath("nothing-here")});
    QCOMPARE(r.code, 1);
    QVERIFY(r.err.contains("nothing-here"));
}

void TestCli::tokenizePrintsReferenceIds() {
    const QString dir = QStringLiteral(FOLIO_TEST_DATA_DIR "/tokenizer/minicpm4");
    Run r = run({"tokenize", "--model", dir, "--text", "Hello world"});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out.trimmed(), QStringLiteral("1 21045 2809"));
    r = run({"tokenize", "--model", dir, "--text", "Hello world", "--no-bos"});
    QCOMPARE(r.out.trimmed(), QStringLiteral("21045 2809"));
    const QString file = tmp_.filePath("text.txt");
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("<|im_end|>\n");
    f.close();
    r = run({"tokenize", "--model", dir, "--file", file, "--no-bos"});
    QCOMPARE(r.out.trimmed(), QStringLiteral("73440 59320 5"));
}

void TestCli::generateStreamsText() {
    const Run r = run({"generate", "--model", model_, "--prompt", "The book begins", "--max-tokens",
                       "12", "--temperature", "0", "--backend", "cpu", "--stats"});
    QCOMPARE(r.code, 0);
    QVERIFY(!r.out.trimmed().isEmpty());
    const auto stats = QRegularExpression(QStringLiteral("generated=(\\d+)")).match(r.err);
    QVERIFY2(stats.hasMatch(), qPrintable(r.err));
    QVERIFY(stats.captured(1).toInt() >= 1 && stats.captured(1).toInt() <= 12);
    // Greedy decoding is deterministic.
    const Run again = run({"generate", "--model", model_, "--prompt", "The book begins",
                           "--max-tokens", "12", "--temperature", "0", "--backend", "cpu"});
    QCOMPARE(again.out, r.out);
}

// --progress prints the weights' loading on standard error, up to 100 %; without it (and not on
// a terminal) nothing of the kind.
void TestCli::generateReportsLoading() {
    const QStringList common = {
        "generate",      "--model", model_,      "--prompt", "The book begins", "--max-tokens", "2",
        "--temperature", "0",       "--backend", "cpu"};
    const Run shown = run(common + QStringList{"--progress"});
    QCOMPARE(shown.code, 0);
    const QStringList lines = shown.err.split('\n', Qt::SkipEmptyParts);
    QVERIFY2(lines.size() >= 2, qPrintable(shown.err));
    QCOMPARE(lines.first(), QStringLiteral("loading the model: 0 %"));
    QCOMPARE(lines.last(), QStringLiteral("loading the model: 100 %"));
    const Run quiet = run(common);
    QCOMPARE(quiet.code, 0);
    QVERIFY2(!quiet.err.contains("loading the model"), qPrintable(quiet.err));
    QCOMPARE(quiet.out, shown.out);
}

void TestCli::generateChatAndSampling() {
    const QString file = tmp_.filePath("doc.txt");
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("In the beginning was a short document.\n");
    f.close();
    const QStringList common = {
        "generate",   "--model",      model_, "--file",        file,   "--chat",
        "--no-think", "--max-tokens", "8",    "--temperature", "1.2",  "--top-k",
        "50",         "--top-p",      "0.9",  "--min-p",       "0.01", "--repeat-penalty",
        "1.1",        "--backend",    "cpu"};
    const Run a = run(common + QStringList{"--seed", "5"});
    const Run b = run(common + QStringList{"--seed", "5"});
    QCOMPARE(a.code, 0);
    QCOMPARE(a.out, b.out);
}

void TestCli::generateRejectsBadInput() {
    Run r = run({"generate", "--model", tmp_.filePath("missing"), "--prompt", "x"});
    QCOMPARE(r.code, 1);
    QVERIFY(r.err.contains("missing"));
    r = run({"generate", "--model", model_, "--prompt", "x", "--top-p", "0"});
    QCOMPARE(r.code, 1);
    QVERIFY(r.err.contains("top"));
    r = run({"generate", "--model", model_, "--prompt", "x", "--max-tokens", "many"});
    QCOMPARE(r.code, 2);
    r = run({"generate", "--model", model_, "--prompt", "x", "--backend", "tpu"});
    QCOMPARE(r.code, 2);
}

void TestCli::usageErrors() {
    QCOMPARE(run({}).code, 2);
    QCOMPARE(run({"frobnicate"}).code, 2);
    QCOMPARE(run({"--help"}).code, 0);
    QCOMPARE(run({"check-golden"}).code, 2);
    QCOMPARE(run({"tokenize", "--text", "x"}).code, 2);
    QCOMPARE(run({"generate", "--prompt", "x"}).code, 2);
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
