// folio-bench's work model (bench_model.h) against the model it measures: the matrices it counts
// are the weights a model folder binds, and its floors grow with the context the way the work
// does (decode: keys and values up to the selection's window, compressed keys beyond it;
// prefill: faster than the tokens, by stage 1's scoring of every visible compressed key).

#include "bench_model.h"
#include "model_weights.h"
#include "tiny_model.h"

#include <QTemporaryDir>
#include <QtTest>

using folio::bench::decodeBytes;
using folio::bench::layerMatrixElements;
using folio::bench::prefillFlops;

class TestBenchModel : public QObject {
    Q_OBJECT
private slots:
    void matricesAreTheBoundWeights_data();
    void matricesAreTheBoundWeights();
    void decodeGrowsByKeysThenByCompressedKeys();
    void prefillGrowsFasterThanItsTokens();
};

namespace {

double elements(const sala::Weight& w) {
    return w.empty() ? 0.0 : double(w.rows) * double(w.cols);
}

sala::ModelFiles tinyModel(const QTemporaryDir& dir, const testutil::TinyModelSpec& spec) {
    if (!testutil::writeTinyModel(dir.path().toStdString(), spec)) qFatal("no tiny model");
    auto files = sala::openModelFolder(dir.path().toStdString());
    if (!files) qFatal("%s", files.error().message.c_str());
    return std::move(files).value();
}

} // namespace

void TestBenchModel::matricesAreTheBoundWeights_data() {
    QTest::addColumn<QStringList>("mixers");
    QTest::newRow("sparse last") << QStringList{"minicpm4", "lightning-attn", "minicpm4"};
    QTest::newRow("lightning last") << QStringList{"minicpm4", "minicpm4", "lightning-attn"};
}

void TestBenchModel::matricesAreTheBoundWeights() {
    QFETCH(QStringList, mixers);
    testutil::TinyModelSpec spec;
    spec.mixers.clear();
    for (const QString& m : mixers) spec.mixers.push_back(m.toStdString());
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const sala::ModelFiles model = tinyModel(dir, spec);
    const sala::ModelConfig& c = model.config;
    double all = 0;
    for (const sala::LayerWeights& l : model.weights.layers) {
        double bound = 0;
        for (const sala::Weight* w :
             {&l.q, &l.k, &l.v, &l.o, &l.outGate, &l.mlpGate, &l.mlpUp, &l.mlpDown})
            bound += elements(*w);
        QCOMPARE(layerMatrixElements(c, l.kind), bound);
        all += bound;
    }
    QCOMPARE(layerMatrixElements(c), all);
    // A step reads every matrix, the lm_head and one embedding row at least once, in bf16.
    QVERIFY(decodeBytes(c, 1) >= 2 * (all + elements(model.weights.lmHead) + double(c.hiddenSize)));
}

void TestBenchModel::decodeGrowsByKeysThenByCompressedKeys() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const sala::ModelConfig c = tinyModel(dir, {}).config;
    const int64_t window = int64_t(c.sparse.topkTotal()) * c.sparse.blockSize;
    // Past the window only the compressed keys grow, in proportion to the context.
    const double step1 = decodeBytes(c, 2 * window) - decodeBytes(c, window);
    const double step2 = decodeBytes(c, 4 * window) - decodeBytes(c, 2 * window);
    QVERIFY(step1 > 0);
    QCOMPARE(step2, 2 * step1);
    // Within the window each token's keys and values are read too: more per token than beyond.
    const double inside = (decodeBytes(c, window) - decodeBytes(c, window / 2)) / (window / 2);
    QVERIFY(inside > step1 / window);
}

void TestBenchModel::prefillGrowsFasterThanItsTokens() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const sala::ModelConfig c = tinyModel(dir, {}).config;
    const int64_t n = 16 * int64_t(c.sparse.topkTotal()) * c.sparse.blockSize;
    QVERIFY(prefillFlops(c, n) > 0);
    QVERIFY(prefillFlops(c, 2 * n) > 2 * prefillFlops(c, n));
    // At least the GEMMs of every layer but the last, for every token.
    QVERIFY(prefillFlops(c, n) >
            2.0 * n * (layerMatrixElements(c) - layerMatrixElements(c, c.layerKinds.back())));
}

QTEST_GUILESS_MAIN(TestBenchModel)
#include "test_bench_model.moc"
