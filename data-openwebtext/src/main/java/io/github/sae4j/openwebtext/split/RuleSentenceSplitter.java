package io.github.sae4j.openwebtext.split;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A rule-based English sentence splitter for web text, in one left-to-right pass without regular expressions.
 *
 * <p>Three layers, each described in {@code docs/sentence-splitting.md}:
 * <ol>
 *   <li>Blocks: a blank line always ends a sentence.</li>
 *   <li>Lines: inside a block, a line that is a list item or a heading is a sentence of its own, and a line without
 *       final punctuation ends one unless the next line goes on in lowercase or the block is hard-wrapped prose.</li>
 *   <li>Punctuation: inside what is left, a run of {@code . ! ? …} (with closing quotes and brackets) followed by
 *       whitespace ends a sentence unless the word before it is an abbreviation, an initial or a list number, or
 *       the next word starts in lowercase.</li>
 * </ol>
 * Every loop looks back or ahead a bounded number of characters, so time is linear in the text. Stateless, hence
 * thread-safe.
 */
public final class RuleSentenceSplitter implements SentenceSplitter {

    public static final String NAME = "rules";

    /** Longest word looked at before a period; longer tokens (URLs, runs of dots) are ordinary words. */
    private static final int MAX_WORD = 48;
    /** A block whose lines all fit in this width, and all but the last are at least MIN_WRAPPED wide, is wrapped. */
    private static final int MAX_WRAPPED = 100;
    private static final int MIN_WRAPPED = 40;

    /** Titles and the like: a name or number always follows, so a period after them never ends a sentence. */
    private static final Set<String> NEVER_FINAL = Set.of(
            "Mr", "Mrs", "Ms", "Mssrs", "Messrs", "Mme", "Mlle", "Dr", "Prof", "Rev", "Hon", "Gen", "Sen", "Rep",
            "Reps", "Sens", "Gov", "Lt", "Col", "Capt", "Sgt", "Cpl", "Maj", "Adm", "Cmdr", "Pvt", "Supt", "Det",
            "Insp", "Msgr", "Fr", "Sec", "Atty", "Amb", "Brig", "Mt", "Ft", "Pres",
            "vs", "Vs", "cf", "Cf", "viz", "esp", "incl", "approx", "Approx", "ca", "resp", "w.r.t", "e.g", "i.e",
            "E.g", "I.e", "a.k.a", "Ph", "Op");

    /** Abbreviations that stand before a number ({@code No. 5}, {@code p. 34}); before anything else they end. */
    private static final Set<String> BEFORE_NUMBER = Set.of(
            "No", "Nos", "no", "nos", "Fig", "Figs", "fig", "figs", "Vol", "Vols", "vol", "vols", "pp", "Art", "art",
            "Ch", "ch", "Chap", "chap", "Ex", "Eq", "Eqs", "eq", "Ref", "Refs", "ref", "Tab", "tab", "Pt", "pt",
            "Apt", "Rt", "Rte", "Hwy", "Ste", "Nr", "nr", "Para", "para", "Sect", "sect", "ver", "Ver", "rev",
            "tel", "Tel", "ext", "Ext", "est", "Est");

    /**
     * Abbreviations that often end a sentence too ({@code Apple Inc.}, {@code Martin Luther King Jr.}, a month, a
     * state in a dateline): they end one only when the next word is a common sentence opener.
     */
    private static final Set<String> FINAL_IF_OPENER = Set.of(
            "Inc", "Ltd", "Co", "Corp", "Cos", "Bros", "LLC", "Plc", "plc", "Jr", "Sr", "Esq", "St", "Ave", "Blvd",
            "Rd", "Ln", "Dept", "Univ", "Assn", "Intl", "Mfg", "al", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug",
            "Sep", "Sept", "Oct", "Nov", "Dec", "Mon", "Tue", "Tues", "Wed", "Thu", "Thurs", "Fri", "Sat", "Sun",
            "Ala", "Ariz", "Ark", "Calif", "Colo", "Conn", "Del", "Fla", "Ga", "Ill", "Ind", "Kan", "Kans", "Ky",
            "La", "Md", "Mass", "Mich", "Minn", "Miss", "Mo", "Mont", "Neb", "Nev", "Okla", "Ore", "Pa", "Penn",
            "Tenn", "Tex", "Va", "Vt", "Wash", "Wis", "Wyo", "Ont", "Que", "Bldg", "Govt", "govt", "Ph.D",
            "min", "hr", "hrs", "mins", "sec", "secs", "oz", "lb", "lbs", "ft", "in", "yr", "yrs", "mo", "wk");

    /** Words that commonly open a sentence: after an ambiguous abbreviation they tip the balance to a boundary. */
    private static final Set<String> OPENERS = Set.of(
            "A", "An", "The", "This", "That", "These", "Those", "There", "Here", "It", "Its", "He", "She", "They",
            "We", "I", "You", "His", "Her", "Their", "Our", "My", "Your", "But", "And", "So", "Or", "Yet", "Still",
            "In", "On", "At", "For", "If", "When", "While", "After", "Before", "As", "Since", "Because", "Although",
            "Though", "What", "Why", "How", "Who", "Where", "Which", "Some", "Many", "Most", "All", "No", "Not",
            "None", "One", "Two", "Three", "Now", "Then", "However", "Also", "Meanwhile", "Today", "Yesterday",
            "Tomorrow", "Last", "Next", "According", "Despite", "Even", "Just", "Only", "Each", "Every", "Both",
            "Such", "With", "By", "From", "To", "Is", "Are", "Was", "Were", "Do", "Does", "Did", "Can", "Could",
            "Will", "Would", "Should", "May", "Might", "Must", "Let", "Please", "Thanks", "Yes", "Other", "Another",
            "More", "Several", "Under", "Over", "During", "Instead", "Unlike", "Like", "Shares", "Officials",
            "Analysts", "Earlier", "Later", "Overall", "Again", "Once", "Sometimes", "Often", "Unfortunately",
            "Fortunately", "Indeed", "Thus", "Therefore", "Otherwise", "Besides", "Moreover", "Furthermore");

    /** a.m. and p.m.: they end a sentence before any capital but a time zone, a weekday or a month. */
    private static final Set<String> CLOCK = Set.of("a.m", "p.m", "A.M", "P.M");
    private static final Set<String> AFTER_CLOCK = Set.of(
            "ET", "EST", "EDT", "CT", "CST", "CDT", "MT", "MST", "MDT", "PT", "PST", "PDT", "GMT", "BST", "UTC", "CET",
            "CEST", "IST", "JST", "AEST", "Eastern", "Central", "Mountain", "Pacific", "Monday", "Tuesday",
            "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov",
            "Dec", "Local");

    /** Dialogue tags: in {@code "Well?" Anna said.} the question is part of the sentence the tag ends. */
    private static final Set<String> SPEECH_VERBS = Set.of(
            "said", "says", "asked", "asks", "replied", "replies", "shouted", "whispered", "cried", "called",
            "answered", "muttered", "yelled", "screamed", "added", "exclaimed", "wrote", "writes", "demanded",
            "insisted", "continued", "murmured", "snapped", "begged", "pleaded", "announced", "declared", "told",
            "tells", "wondered", "sighed", "groaned", "grumbled", "protested", "stammered", "gasped");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<TextSpan> split(String text) {
        List<TextSpan> out = new ArrayList<>();
        int n = text.length();
        int pos = 0;
        while (pos < n) {
            int blockEnd = blockEnd(text, pos);
            splitBlock(text, pos, blockEnd, out);
            pos = blockEnd;
            while (pos < n && isSpace(text.charAt(pos))) {
                pos++;
            }
        }
        return out;
    }

    // ---- layer 1: blocks separated by blank lines ----

    /** The end of the block that starts at {@code from}: the start of the first blank line after it, or the end. */
    private static int blockEnd(String text, int from) {
        int n = text.length();
        int nl = text.indexOf('\n', from);
        while (nl >= 0) {
            int p = nl + 1;
            while (p < n && text.charAt(p) != '\n' && isSpace(text.charAt(p))) {
                p++;
            }
            if (p >= n || text.charAt(p) == '\n') {
                return nl;
            }
            nl = text.indexOf('\n', p);
        }
        return n;
    }

    // ---- layer 2: lines inside a block ----

    private static void splitBlock(String text, int start, int end, List<TextSpan> out) {
        int newline = text.indexOf('\n', start);
        if (newline < 0 || newline >= end) {
            while (start < end && isSpace(text.charAt(start))) {
                start++;
            }
            splitUnit(text, start, end, out); // one line, the common case: no line bookkeeping
            return;
        }
        List<int[]> lines = lines(text, start, end);
        if (lines.isEmpty()) {
            return;
        }
        boolean wrapped = isHardWrapped(text, lines);
        int unitStart = lines.getFirst()[0];
        for (int k = 1; k < lines.size(); k++) {
            int[] prev = lines.get(k - 1);
            int[] next = lines.get(k);
            if (breaksBetween(text, prev, next, wrapped)) {
                splitUnit(text, unitStart, prev[1], out);
                unitStart = next[0];
            }
        }
        splitUnit(text, unitStart, lines.getLast()[1], out);
    }

    /** The lines of a block as trimmed [start, end) pairs, blank lines left out. */
    private static List<int[]> lines(String text, int start, int end) {
        List<int[]> lines = new ArrayList<>();
        int p = start;
        while (p < end) {
            int nl = text.indexOf('\n', p);
            int lineEnd = nl < 0 || nl > end ? end : nl;
            int s = p;
            int e = lineEnd;
            while (s < e && isSpace(text.charAt(s))) {
                s++;
            }
            while (e > s && isSpace(text.charAt(e - 1))) {
                e--;
            }
            if (e > s) {
                lines.add(new int[] {s, e});
            }
            p = lineEnd + 1;
        }
        return lines;
    }

    /** Prose wrapped at a fixed width (e-mail, plain-text books): single newlines there are just spaces. */
    private static boolean isHardWrapped(String text, List<int[]> lines) {
        if (lines.size() < 3) {
            return false;
        }
        for (int k = 0; k < lines.size(); k++) {
            int[] line = lines.get(k);
            int length = line[1] - line[0];
            if (length > MAX_WRAPPED || listMarkerEnd(text, line[0], line[1]) >= 0) {
                return false;
            }
            if (k < lines.size() - 1 && length < MIN_WRAPPED) {
                return false;
            }
        }
        return true;
    }

    private static boolean breaksBetween(String text, int[] prev, int[] next, boolean wrapped) {
        if (listMarkerEnd(text, next[0], next[1]) >= 0 || listMarkerEnd(text, prev[0], prev[1]) >= 0) {
            return true;
        }
        if (endsWithTerminal(text, prev[0], prev[1])) {
            return false; // the punctuation layer decides, with the newline as whitespace
        }
        char first = text.charAt(next[0]);
        if (Character.isLowerCase(first) || isContinuation(first)) {
            return false;
        }
        return !wrapped;
    }

    /**
     * Where the list or heading marker of the line [s, e) ends, or -1 if it has none. Markers: {@code #} to
     * {@code ######}, a bullet ({@code - * + • · – — ▪ ► ◦ >}), or 1 to 3 digits or one letter followed by
     * {@code .} or {@code )} (a letter only with {@code )}, since {@code J.} is an initial) and then a space.
     */
    static int listMarkerEnd(String text, int s, int e) {
        char c = text.charAt(s);
        if (c == '#') {
            int p = s;
            while (p < e && text.charAt(p) == '#' && p - s < 6) {
                p++;
            }
            return p < e && isSpace(text.charAt(p)) ? p : -1;
        }
        if ("-*+•·–—▪►◦>".indexOf(c) >= 0) {
            return s + 1 < e && isSpace(text.charAt(s + 1)) ? s + 1 : -1;
        }
        int p = s;
        while (p < e && p - s < 3 && isAsciiDigit(text.charAt(p))) {
            p++;
        }
        if (p > s && p + 1 < e && (text.charAt(p) == '.' || text.charAt(p) == ')') && isSpace(text.charAt(p + 1))) {
            return p + 1;
        }
        if (Character.isLetter(c) && s + 2 < e && text.charAt(s + 1) == ')' && isSpace(text.charAt(s + 2))) {
            return s + 2;
        }
        return -1;
    }

    private static boolean endsWithTerminal(String text, int s, int e) {
        int p = e - 1;
        while (p > s && isClosing(text.charAt(p))) {
            p--;
        }
        return isTerminal(text.charAt(p));
    }

    // ---- layer 3: punctuation inside a unit ----

    /** Splits [start, end), which holds no hard boundary, at sentence-final punctuation. */
    private static void splitUnit(String text, int start, int end, List<TextSpan> out) {
        int sentenceStart = start;
        int i = start;
        while (i < end) {
            char c = text.charAt(i);
            if (!isTerminal(c)) {
                i++;
                continue;
            }
            int runStart = i;
            int j = i;
            boolean exclaimOrAsk = false;
            int dots = 0;
            while (j < end && isTerminal(text.charAt(j))) {
                char t = text.charAt(j);
                if (t == '.') {
                    dots++;
                } else if (t == '…') {
                    dots += 3;
                } else {
                    exclaimOrAsk = true;
                }
                j++;
            }
            j = skipClosers(text, j, end);
            if (j < end && !isSpace(text.charAt(j))) {
                i = j; // 3.14, example.com, e.g.,
                continue;
            }
            int next = j;
            while (next < end && isSpace(text.charAt(next))) {
                next++;
            }
            if (next >= end) {
                break;
            }
            boolean boundary = exclaimOrAsk || dots > 1
                    ? startsSentence(text, next, end)
                            && !(exclaimOrAsk && isOpening(text.charAt(sentenceStart)) && isQuote(text.charAt(j - 1))
                                    && isDialogueTag(text, next, end))
                    : periodEnds(text, sentenceStart, runStart, next, end);
            if (boundary) {
                emit(text, sentenceStart, j, out);
                sentenceStart = next;
            }
            i = next;
        }
        emit(text, sentenceStart, end, out);
    }

    /** Past closing quotes, brackets, more terminal marks and a footnote like {@code [12]}. */
    private static int skipClosers(String text, int j, int end) {
        while (j < end) {
            char c = text.charAt(j);
            if (isClosing(c) || isTerminal(c)) {
                j++;
            } else if (c == '[') {
                int p = j + 1;
                while (p < end && p - j <= 4 && isAsciiDigit(text.charAt(p))) {
                    p++;
                }
                if (p > j + 1 && p < end && text.charAt(p) == ']') {
                    j = p + 1;
                } else {
                    return j;
                }
            } else {
                return j;
            }
        }
        return j;
    }

    /** Whether the text at {@code p} can open a sentence after a clear end mark. */
    private static boolean startsSentence(String text, int p, int end) {
        char c = text.charAt(p);
        if (Character.isLowerCase(c)) {
            return isCamelWord(text, p, end); // iPhone, eBay
        }
        return !isContinuation(c) && !isTerminal(c);
    }

    /** Whether a single period at {@code dot}, with the next sentence possibly starting at {@code next}, ends one. */
    private static boolean periodEnds(String text, int sentenceStart, int dot, int next, int end) {
        if (!startsSentence(text, next, end)) {
            return false;
        }
        int wordStart = dot;
        while (wordStart > sentenceStart && dot - wordStart < MAX_WORD && !isSpace(text.charAt(wordStart - 1))) {
            wordStart--;
        }
        while (wordStart < dot && isOpening(text.charAt(wordStart))) {
            wordStart++;
        }
        int length = dot - wordStart;
        if (length == 0 || length >= MAX_WORD) {
            return true;
        }
        if (wordStart == sentenceStart && length <= 3 && allDigits(text, wordStart, dot)) {
            return false; // "1. Preheat the oven": a list number, not a sentence
        }
        String word = text.substring(wordStart, dot);
        if (NEVER_FINAL.contains(word)) {
            return false;
        }
        char after = text.charAt(next);
        if (BEFORE_NUMBER.contains(word)) {
            return !isAsciiDigit(after) && after != '#';
        }
        if (CLOCK.contains(word)) {
            return !AFTER_CLOCK.contains(text.substring(next, wordEnd(text, next, end)));
        }
        if (FINAL_IF_OPENER.contains(word) || isInitialOrDottedAbbreviation(word)) {
            return opensSentence(text, next, end);
        }
        return true;
    }

    /** {@code J}, {@code W}, {@code U.S}, {@code a.m}, {@code Ph.D}: letters in groups of one or two between periods. */
    private static boolean isInitialOrDottedAbbreviation(String word) {
        int group = 0;
        for (int k = 0; k < word.length(); k++) {
            char c = word.charAt(k);
            if (c == '.') {
                if (group == 0) {
                    return false;
                }
                group = 0;
            } else if (Character.isLetter(c) && group < 2) {
                group++;
            } else {
                return false;
            }
        }
        return group > 0 && (word.length() == 1 || word.indexOf('.') > 0);
    }

    /** Whether the word at {@code p} is a quote, a bracket or a common sentence opener (The, He, But, ...). */
    private static boolean opensSentence(String text, int p, int end) {
        char c = text.charAt(p);
        if (isOpening(c)) {
            return c != '(' && c != '[';
        }
        if (!Character.isUpperCase(c)) {
            return false;
        }
        int e = wordEnd(text, p, end);
        if (e == p + 1 && e < end && text.charAt(e) == '.') {
            return false; // another initial: the A in "J. A. Robertson"
        }
        return OPENERS.contains(text.substring(p, e));
    }

    /**
     * Whether the text at {@code p}, after a sentence that opens with a quote and ends with a quoted question or
     * exclamation, is a dialogue tag: a speech verb as the second or third word ({@code Anna said}, {@code I asked},
     * {@code Mrs. Patel said}). An action ({@code Jake shrugged}) is a sentence of its own.
     */
    private static boolean isDialogueTag(String text, int p, int end) {
        if (!Character.isUpperCase(text.charAt(p))) {
            return false;
        }
        for (int word = 0; word < 3 && p < end; word++) {
            int e = wordEnd(text, p, end);
            if (word > 0 && SPEECH_VERBS.contains(text.substring(p, e))) {
                return true;
            }
            while (e < end && e - p < 24 && !isSpace(text.charAt(e))) {
                e++; // past "Mrs." or "O'Neil"
            }
            p = e;
            while (p < end && isSpace(text.charAt(p))) {
                p++;
            }
        }
        return false;
    }

    /** The end of the run of letters at {@code p}, at most 16 long. */
    private static int wordEnd(String text, int p, int end) {
        int e = p;
        while (e < end && e - p < 16 && Character.isLetter(text.charAt(e))) {
            e++;
        }
        return e;
    }

    private static void emit(String text, int start, int end, List<TextSpan> out) {
        while (start < end && isSpace(text.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(text.charAt(end - 1))) {
            end--;
        }
        if (end > start) {
            out.add(new TextSpan(start, end));
        }
    }

    // ---- character classes ----

    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\uFEFF';
    }

    private static boolean isTerminal(char c) {
        return c == '.' || c == '!' || c == '?' || c == '…' || c == '。' || c == '！' || c == '？' || c == '‽';
    }

    private static boolean isClosing(char c) {
        return c == '"' || c == '\'' || c == '”' || c == '’' || c == '»' || c == ')' || c == ']' || c == '}'
                || c == '›';
    }

    private static boolean isQuote(char c) {
        return c == '"' || c == '\'' || c == '”' || c == '’' || c == '»';
    }

    private static boolean isOpening(char c) {
        return c == '"' || c == '\'' || c == '“' || c == '‘' || c == '«' || c == '„' || c == '(' || c == '['
                || c == '{' || c == '‹';
    }

    /** Characters that continue a sentence rather than open one. */
    private static boolean isContinuation(char c) {
        return c == ',' || c == ';' || c == ':' || c == ')' || c == ']' || c == '}' || c == '”' || c == '’'
                || c == '%';
    }

    private static boolean isCamelWord(String text, int p, int end) {
        for (int k = p + 1; k < end && k - p < 8 && Character.isLetter(text.charAt(k)); k++) {
            if (Character.isUpperCase(text.charAt(k))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean allDigits(String text, int s, int e) {
        for (int k = s; k < e; k++) {
            if (!isAsciiDigit(text.charAt(k))) {
                return false;
            }
        }
        return true;
    }
}
