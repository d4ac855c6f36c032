// Every reference case passes on the CPU backend, with every chunk schedule and decode step.

#include "golden_case.h"

#include <QDir>
#include <QtTest>

class TestGolden : public QObject {
    Q_OBJECT
private slots:
    void cases_data();
    void cases();
};

void TestGolden::cases_data() {
    QTest::addColumn<QString>("dir");
    const QDir root(QStringLiteral(FOLIO_TEST_DATA_DIR "/golden"));
    const QStringList names = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    QVERIFY(names.size() >= 5);
    for (const QString& name : names) QTest::newRow(qPrintable(name)) << root.filePath(name);
}

void TestGolden::cases() {
    QFETCH(QString, dir);
    std::string log;
    auto report = sala::runGoldenCase(dir.toStdString(), sala::BackendKind::Cpu,
                                      [&](const std::string& line) { log += line + "\n"; });
    QVERIFY2(report.ok(), report.ok() ? "" : report.error().message.c_str());
    QVERIFY2(report->passed, log.c_str());
    QVERIFY(report->tokensMatch);
    QVERIFY(report->selectionsMatch);
    QVERIFY(report->maxRelErr <= 1e-4);
    QVERIFY(report->rowsCompared > 2);
}

QTEST_GUILESS_MAIN(TestGolden)
#include "test_golden.moc"
