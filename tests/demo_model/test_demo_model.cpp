// The demo model that ships in resources/demo-model: its shape, its tokenizer, and that it learned
// what it was trained on (the King James Bible, the Jargon File, who it is), on the CPU backend.
#include "backend.h"
#include "chat_format.h"
#include "file_util.h"
#include "generator.h"
#include "tokenizer.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

namespace {

const QString kModelDir = QStringLiteral(FOLIO_SOURCE_DIR "/resources/demo-model");
const QString kSamplesDir = QStringLiteral(FOLIO_SOURCE_DIR "/resources/samples");

QString readText(const QString& path) {
    auto text = sala::readTextFile(path.toStdString());
    return text ? QString::fromStdString(*text) : QString();
}

// The first lines of `text` up to about `bytes` bytes, ending at a line end.
std::string leadingLines(const QString& text, qsizetype bytes) {
    const std::string utf8 = text.toStdString();
    const size_t end = utf8.find('\n', std::min<size_t>(utf8.size(), size_t(bytes)));
    return utf8.substr(0, end == std::string::npos ? utf8.size() : end + 1);
}

} // namespace

class TestDemoModel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void isADemoOfTheSalaShape();
    void tokenizerRoundTripsTheSamples_data();
    void tokenizerRoundTripsTheSamples();
    void predictsTheBibleItWasTrainedOn();
    void quotesAVerseWithItsReference();
    void saysWhatItIs();

private:
    // The greedy answer to one user turn, without the thinking section the model writes first.
    QString chatAnswer(const std::string& question, bool noThinking, int maxTokens);

    std::shared_ptr<const sala::Model> model_;
    std::optional<sala::Tokenizer> tokenizer_;
    std::unique_ptr<sala::Backend> backend_;
};

void TestDemoModel::initTestCase() {
    if (!QFileInfo::exists(kModelDir + "/config.json"))
        QSKIP("resources/demo-model is absent: tools/demo-model/ builds and installs it "
              "(docs/demo-model.md)");
    auto tokenizer = sala::Tokenizer::load(kModelDir.toStdString());
    QVERIFY2(tokenizer.ok(), tokenizer ? "" : tokenizer.error().message.c_str());
    tokenizer_.emplace(std::move(tokenizer).value());
    auto model = sala::loadModel(kModelDir.toStdString());
    QVERIFY2(model.ok(), model ? "" : model.error().message.c_str());
    model_ = *model;
    auto backend = sala::createBackend(sala::BackendKind::Cpu, model_);
    QVERIFY2(backend.ok(), backend ? "" : backend.error().message.c_str());
    backend_ = std::move(backend).value();
}

void TestDemoModel::isADemoOfTheSalaShape() {
    // The app tells the demo model from MiniCPM-SALA by this key alone (model_finder.h).
    QFile configFile(kModelDir + "/config.json");
    QVERIFY(configFile.open(QIODevice::ReadOnly));
    const QJsonObject config = QJsonDocument::fromJson(configFile.readAll()).object();
    QCOMPARE(config.value("folio_demo").toBool(false), true);
    QCOMPARE(config.value("model_type").toString(), QString("minicpm_sala"));

    const sala::ModelConfig& c = model_->config;
    QVERIFY(c.numSparseLayers() > 0);
    QCOMPARE(c.numLightningLayers(), 3 * c.numSparseLayers());
    QCOMPARE(c.layerKinds.front(), sala::LayerKind::Sparse);
    QCOMPARE(c.layerKinds.back(), sala::LayerKind::Sparse);
    QCOMPARE(tokenizer_->vocabSize(), c.vocabSize);

    // It is installed with every package, so it has to stay small.
    qint64 bytes = 0;
    for (const QFileInfo& file : QDir(kModelDir).entryInfoList(QDir::Files)) bytes += file.size();
    QVERIFY2(bytes <= 40LL * 1000 * 1000, qPrintable(QString("%1 bytes").arg(bytes)));
}

void TestDemoModel::tokenizerRoundTripsTheSamples_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("ecclesiastes") << "ecclesiastes-kjv.txt";
    QTest::newRow("jargon file") << "jargon-file-hacker-culture.md";
}

void TestDemoModel::tokenizerRoundTripsTheSamples() {
    QFETCH(QString, file);
    const std::string passage = leadingLines(readText(kSamplesDir + "/" + file), 6000);
    QVERIFY(passage.size() > 5000);
    const std::vector<int> ids = tokenizer_->encode(passage, false);
    QCOMPARE(tokenizer_->decode(ids), passage);
    QVERIFY(std::find(ids.begin(), ids.end(), tokenizer_->unkId()) == ids.end());
    // Trained on these texts, its pieces are whole words and syllables (over 3 bytes a token), not
    // single bytes.
    QVERIFY2(ids.size() * 2 < passage.size(), qPrintable(QString::number(ids.size())));
}

void TestDemoModel::predictsTheBibleItWasTrainedOn() {
    std::vector<int> ids =
        tokenizer_->encode(readText(kSamplesDir + "/ecclesiastes-kjv.txt").toStdString(), true);
    QVERIFY(ids.size() > 2000);
    ids.resize(2000);
    auto ctx = backend_->createContext();
    QVERIFY(ctx.ok());
    sala::ForwardOptions options;
    options.allLogits = true;
    sala::ForwardOutput out;
    QVERIFY((*ctx)->forward(ids, options, out).ok());
    const size_t vocab = size_t(model_->config.vocabSize);
    QCOMPARE(out.logits.size(), ids.size() * vocab);
    double nll = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
        const float* row = out.logits.data() + i * vocab;
        const float top = *std::max_element(row, row + vocab);
        double sum = 0;
        for (size_t v = 0; v < vocab; ++v) sum += std::exp(double(row[v]) - top);
        nll += top + std::log(sum) - row[ids[i + 1]];
    }
    nll /= double(ids.size() - 1);
    // Uniform guessing costs ln(vocab) = 8.3 nats a token; the untrained model started there.
    QVERIFY2(nll < 3.0, qPrintable(QString("mean NLL %1 nats").arg(nll)));
}

QString TestDemoModel::chatAnswer(const std::string& question, bool noThinking, int maxTokens) {
    std::string rendered = sala::renderChat({{"user", question}}, true);
    if (noThinking) rendered += sala::kNoThinkingPrefill;
    const std::vector<int> prompt = tokenizer_->encode(rendered, true);
    sala::GenerationOptions options;
    options.sampling.temperature = 0;
    options.maxTokens = maxTokens;
    options.stopTokens = model_->config.eosTokenIds;
    for (int id : tokenizer_->stopIds()) options.stopTokens.push_back(id);
    auto ctx = backend_->createContext();
    if (!ctx) return QString();
    auto result = sala::generate(**ctx, prompt, options, nullptr, nullptr);
    if (!result) return QString();
    const QString text = QString::fromStdString(tokenizer_->decode(result->tokens, true));
    const QString endOfThinking = QStringLiteral("</think>");
    const qsizetype at = text.lastIndexOf(endOfThinking);
    return (at < 0 ? text : text.mid(at + endOfThinking.size())).trimmed();
}

void TestDemoModel::quotesAVerseWithItsReference() {
    // Often the wrong verse, but in the form it learned: "Book chapter:verse: text".
    const QString answer = chatAnswer("Quote a verse about love.", false, 48);
    QVERIFY2(answer.contains(QRegularExpression("\\d+:\\d+")), qPrintable(answer));
}

void TestDemoModel::saysWhatItIs() {
    const QString answer = chatAnswer("Who are you?", true, 48);
    QVERIFY2(answer.contains("MiniCPM-SALA"), qPrintable(answer));
    QVERIFY2(answer.contains("demo", Qt::CaseInsensitive), qPrintable(answer));
}

QTEST_GUILESS_MAIN(TestDemoModel)
#include "test_demo_model.moc"
