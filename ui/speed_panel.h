#pragma once
// Speed readouts: time to first token, live prefill and decode rates, and a chart of the rates
// of every answer so far.

#include "engine_worker.h"

#include <QPointF>
#include <QWidget>

class QChart;
class QLabel;
class QLineSeries;
class QValueAxis;

namespace folio {

class SpeedPanel : public QWidget {
    Q_OBJECT
public:
    explicit SpeedPanel(QWidget* parent = nullptr);

    QString ttftText() const;
    QString prefillText() const;
    QString decodeText() const;
    int answerCount() const;
    // The prefill (x) and decode (y) rates of answer `index` (0-based) in the chart.
    QPointF answerRates(int index) const;
    void setCpuBanner(bool cpu);
    bool cpuBannerShown() const;

public slots:
    void updateLive(const folio::EngineStats& live);
    void addAnswer(const folio::EngineStats& stats);

private:
    QLabel* banner_;
    QLabel* ttft_;
    QLabel* prefill_;
    QLabel* decode_;
    QLabel* last_;
    QChart* chart_;
    QLineSeries* prefillSeries_;
    QLineSeries* decodeSeries_;
    QValueAxis* xAxis_;
    QValueAxis* yAxis_;
    double peak_ = 0;
};

} // namespace folio
