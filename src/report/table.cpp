#include "report/table.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "data/reader.h"

namespace clickprompt::report {

namespace {
// The number a cell starts with (NaN when none: "n/a", "").
double leading_number(const std::string& s) {
  const char* b = s.c_str();
  char* end = nullptr;
  double v = std::strtod(b, &end);
  return end == b ? NAN : v;
}
}  // namespace

std::vector<std::vector<int>> Table::marks() const {
  std::vector<std::vector<int>> m(rows.size(), std::vector<int>(header.size(), 0));
  for (size_t c = 0; c < rank.size() && c < header.size(); ++c) {
    if (rank[c] == 0) continue;
    auto ranked = [&](size_t i) {
      return c < rows[i].size() && !std::isnan(leading_number(rows[i][c])) &&
             std::find(reference_rows.begin(), reference_rows.end(), i) == reference_rows.end();
    };
    std::set<double> seen;
    for (size_t i = 0; i < rows.size(); ++i)
      if (ranked(i)) seen.insert(rank[c] * leading_number(rows[i][c]));
    if (seen.empty()) continue;
    auto best = seen.rbegin();
    const double first = *best, second = seen.size() > 1 ? *std::next(best) : NAN;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!ranked(i)) continue;
      const double v = rank[c] * leading_number(rows[i][c]);
      if (v == first)
        m[i][c] = 1;
      else if (v == second)
        m[i][c] = 2;
    }
  }
  return m;
}

std::string Table::markdown() const {
  std::string s = "### " + title + "\n\n";
  if (!note.empty()) s += note + "\n\n";
  s += "|";
  for (const auto& h : header) s += " " + h + " |";
  s += "\n|";
  for (size_t i = 0; i < header.size(); ++i) s += i ? "---:|" : "---|";
  s += "\n";
  const auto m = marks();
  for (size_t i = 0; i < rows.size(); ++i) {
    s += "|";
    for (size_t c = 0; c < rows[i].size(); ++c)
      s += " " + (m[i][c] == 1 && !rows[i][c].empty() ? "**" + rows[i][c] + "**" : rows[i][c]) + " |";
    s += "\n";
  }
  return s + "\n";
}

std::string Table::csv() const {
  std::string s;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) s += (i ? "," : "") + data::csv_escape(cells[i]);
    s += "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return s;
}

std::string latex_escape(const std::string& in) {
  std::string s;
  for (size_t i = 0; i < in.size(); ++i) {
    const char ch = in[i];
    if (in.compare(i, 2, "\xC2\xB1") == 0) {  // ±
      s += "$\\pm$";
      ++i;
      continue;
    }
    switch (ch) {
      case '&':
      case '%':
      case '$':
      case '#':
      case '_':
      case '{':
      case '}':
        s += '\\';
        s += ch;
        break;
      case '~':
        s += "\\textasciitilde{}";
        break;
      case '^':
        s += "\\textasciicircum{}";
        break;
      case '\\':
        s += "\\textbackslash{}";
        break;
      default:
        s += ch;
    }
  }
  return s;
}

std::string Table::latex() const {
  std::string s = "% " + title + "\n% requires \\usepackage{booktabs}\n\\begin{table}[t]\n\\centering\n";
  s += "\\caption{" + latex_escape(title) + "}\n\\begin{tabular}{l" +
       std::string(header.size() > 0 ? header.size() - 1 : 0, 'r') + "}\n\\toprule\n";
  for (size_t i = 0; i < header.size(); ++i) s += (i ? " & " : "") + latex_escape(header[i]);
  s += " \\\\\n\\midrule\n";
  const auto m = marks();
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t c = 0; c < rows[i].size(); ++c) {
      std::string cell = latex_escape(rows[i][c]);
      if (m[i][c] == 1) cell = "\\textbf{" + cell + "}";
      if (m[i][c] == 2) cell = "\\underline{" + cell + "}";
      s += (c ? " & " : "") + cell;
    }
    s += " \\\\\n";
  }
  s += "\\bottomrule\n\\end{tabular}\n";
  if (!note.empty()) s += "\\\\[2pt]{\\footnotesize " + latex_escape(note) + "}\n";
  return s + "\\end{table}\n";
}

std::string html_escape(const std::string& in) {
  std::string s;
  for (char ch : in) {
    switch (ch) {
      case '&':
        s += "&amp;";
        break;
      case '<':
        s += "&lt;";
        break;
      case '>':
        s += "&gt;";
        break;
      case '"':
        s += "&quot;";
        break;
      default:
        s += ch;
    }
  }
  return s;
}

std::string Table::html() const {
  std::string s = "<table>\n<caption>" + html_escape(title) + "</caption>\n<thead><tr>";
  for (const auto& h : header) s += "<th>" + html_escape(h) + "</th>";
  s += "</tr></thead>\n<tbody>\n";
  const auto m = marks();
  for (size_t i = 0; i < rows.size(); ++i) {
    s += "<tr>";
    for (size_t c = 0; c < rows[i].size(); ++c) {
      std::string cell = html_escape(rows[i][c]);
      if (m[i][c] == 1) cell = "<b>" + cell + "</b>";
      if (m[i][c] == 2) cell = "<u>" + cell + "</u>";
      s += "<td>" + cell + "</td>";
    }
    s += "</tr>\n";
  }
  s += "</tbody>\n</table>\n";
  if (!note.empty()) s += "<p class=\"note\">" + html_escape(note) + "</p>\n";
  return s;
}

}  // namespace clickprompt::report
