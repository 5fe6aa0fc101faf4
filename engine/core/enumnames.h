#pragma once

// The snake_case text of an enum registered with Q_ENUM_NS ("SucceededViaFallback" ->
// "succeeded_via_fallback"), built once per enum: names are written for every row and event, so
// they are looked up in a table rather than derived from the meta-object each time.

#include <QHash>
#include <QMetaEnum>
#include <QString>
#include <QStringView>

#include <optional>
#include <vector>

namespace keepflow {

QString snakeCaseName(const char *pascal);

template <typename Enum> class EnumNames {
public:
    static const EnumNames &instance() {
        static const EnumNames names;
        return names;
    }
    /// The text of value; empty for a value the enum does not declare.
    QString name(Enum value) const {
        const auto index = static_cast<size_t>(value);
        return index < m_names.size() ? m_names[index] : QString();
    }
    std::optional<Enum> value(QStringView name) const {
        const auto it = m_values.constFind(name.toString());
        if (it == m_values.constEnd())
            return std::nullopt;
        return it.value();
    }

private:
    EnumNames() {
        const QMetaEnum meta = QMetaEnum::fromType<Enum>();
        for (int i = 0; i < meta.keyCount(); ++i) {
            const auto index = static_cast<size_t>(meta.value(i));
            if (m_names.size() <= index)
                m_names.resize(index + 1);
            m_names[index] = snakeCaseName(meta.key(i));
            m_values.insert(m_names[index], static_cast<Enum>(meta.value(i)));
        }
    }
    std::vector<QString> m_names;
    QHash<QString, Enum> m_values;
};

} // namespace keepflow
