"""The equivalent mutants of the core packages: no behaviour can tell them from the code.

Each entry names a mutant and a text its mutated line still holds (``tools/mutation.py`` excludes
it only while its diff shows that text), with the reason. Kept apart from the script: it is data.
"""

from __future__ import annotations

# mutant name -> (a text its mutated line still holds, why no behaviour can tell it from the code)
_JOURNAL = "mkdocs_wxcloud.manifest.journal.xǁJournalǁ"
_EXCLUDE = "mkdocs_wxcloud.hosts.mkdocs.exclude."
_LOCALE = "the locale's encoding, UTF-8 wherever this runs (Python 3.11 coerces the C locale): only a Windows code page differs"
_ESCAPES = "the journal is read only by json.loads, which decodes \\u escapes and raw UTF-8 alike"
_LONGEST_FIRST = (
    "reverse text order also puts an extension before its own prefixes (.tiff before .tif), all the alternation needs"
)
_SWALLOWED = "the index only words the error of a bad record, which the replay skips without showing it"
_MANIFEST = "mkdocs_wxcloud.manifest."
_STORE = "mkdocs_wxcloud.manifest.store.xǁManifestStoreǁ"
_CASE = "codec names are case-insensitive"
_FALSY = "only ever tested for truth: None is as false as False"
_PROBE = "the probe file lives between two calls of one function: its name is never seen"
_PARSED = "line_of is only called on text that the same loader has just loaded: it composes, so it has a line"
_REFS = "mkdocs_wxcloud.references."
_INT = "int() ignores the white space around the digits, and the escape's own ends in at most one space, tab or newline"
_SHORTCUT = "only decides whether to skip the full pass, which writes the same text when nothing needs an escape"
_UTF8_ROUND_TRIP = "UTF-8 text always encodes back to its bytes: the check only skips work"
_FIRST_PART = "the first part of a split is the same whatever the number of splits"
_ONE_BY_ONE = (
    "the marked page then renders other references, which sends the rewrite down the path that marks one place at a "
    "time: the same places, the same text (only slower)"
)
_NO_PATH = "an empty or fragment-only URL has no path: the next test returns None for it all the same"
_SAFE_X = "quote() never encodes letters: the character leaves the safe set either way, and X adds nothing"
_COMMENT_END = "the search for '*/' starts past the '/*', at 2 or later: it finds -1 or an offset of 2 or more"
_STYLED = "an element that only has a style gets its name read by kind() alone, which answers 'style' for any tag"
_ELEMENT_RAW = "an element kept in the stash went through no inline pattern: its attributes hold no placeholder"
_NO_CODE = (
    "the highlighter runs on no code only for the title it stashes, which pymdownx finds alike for inline and block "
    "code (inlinehilite asks for none), whatever the CSS class"
)
_UNWRITTEN = "the scanner stops before the page is written, and no element of code holds a URL attribute or a style"
_WHOLE_NAME = (
    "the name is every letter and digit after '&': a shorter prefix is followed by one, which keeps it as written, "
    "so only the whole name (legacy ones have at most 6 letters) is ever decoded"
)
_CHUNKS = "chunks only group the pages of one message: each page comes back in page order whatever their size"
_WIDTH = (
    "the width only folds a scalar of over 65,536 characters that holds spaces: notes are at most 200, URLs hold "
    "no space, paths are shorter than PATH_MAX"
)
_WX = "mkdocs_wxcloud.wechat."
_JSON_TYPES = (
    "_kind names what json.loads made (dict, list, str, int, float, bool, None): each is in the table or handled"
)
_CHECKED_KINDS = (
    "every kind the answer checks use (str, int, list, numbers) is in the table: the default is never taken"
)
_FALSY_HINT = "a hint is added to the message only when it is truthy: None and an empty text both add none"
_ONE_BRACE = (
    "ElementTree names a namespaced tag {uri}name and expat refuses a namespace holding '}': a tag has at most "
    "one '}', and every split keeps the same last part"
)
_NO_REASON = (
    "urllib3 (retries=False) raises the error itself: none that reaches here has a `reason` attribute (only "
    "MaxRetryError has, never raised then), so the exception is its own cause either way"
)
_HEADER_CASE = "header names are case-insensitive: urllib3 finds a given Content-Type or Content-Length in any case"
_NO_RETRY_LOG = (
    "with retries=False urllib3's Retry re-raises before its per-URL line: its logger writes only "
    "'Converted retries value: False -> Retry(...)', with nothing to mask"
)
_TIMEOUT_WORDS = (
    "urllib3 turns a socket timeout (TimeoutError) into its ReadTimeoutError with words of its own, for an answer "
    "and a proxy's answer to CONNECT alike, and the transport words that one: this text is never shown"
)
_SAME_HOST = (
    "a host's own pool is given a target that starts with '/', which is_same_host always accepts, and a proxy's "
    "PoolManager sets assert_same_host=False itself"
)
_NO_300 = "a 3xx answer never gets here: _send refuses every 3xx as a redirect"
_TEMP_NAME = (
    "the name of the token cache's temporary file, which lives only until os.replace or its unlink: nothing "
    "reads it by name, and no name can be token-<key>.json"
)
_PUBLISHING = "mkdocs_wxcloud.publishing."
_CONNECTION = f"{_PUBLISHING}connection."
_DOCTOR = f"{_PUBLISHING}doctor."
_PROBES = f"{_PUBLISHING}probes."
_NEVER_UNSPLIT = "unreliable() answers None for a URL that split_url cannot split: parts is never None here"
_RANGE_CASE = "HTTP header names are case-insensitive: the storage reads the same Range header"
_AFTER_LATENCY = (
    "the cleanup runs after the latency step, the only reader of the timings by kind (its own step's are by call)"
)
_DETAIL_SET = "every step sets its detail before it returns, and a failure sets it too: the first value is never shown"
_FORM_NAME = (
    "the name only labels the file part of the COS form (None: the cloud path's base name): COS stores the object "
    "under the form's key with the form's Content-Type, both from the cloud path"
)
_COLOUR = "any colour makes a valid one-colour probe: the probes are deleted, and their colour is shown nowhere"
_NO_LOCATION = "a value that names no host (None, nothing, XXXX) is named alike: elsewhere"
_RUN_DOWNLOADS = (
    "the run's own downloads only spare work: missed there, the same digest and file come from the manifest or "
    "from the download cache, which the download filled"
)
_INVARIANT = "the message of an assert that the run's own construction makes true: never shown"
_MEMO = (
    "the run's memo of digests and stats only spares a stat: missed, the hash cache answers from the file's size "
    "and time without reading it (a file changed meanwhile is hashed anew, which each upload checks anyway)"
)
_OFFLOAD = f"{_PUBLISHING}offload."
_RECORDED = (
    "an upload that ends without an entry has recorded why (hashing, the file, the server, Ctrl-C, and the error "
    "that stopped the run, for each upload it stopped: uploads.failed): the fallbacks are never reached"
)
_CAST = "typing.cast returns its value unchanged whatever type it names: it is read by mypy only"
_PROCESS_NAME = (
    "the process's name shows only in multiprocessing's repr and debug log: the OS sees the same command line"
)
_BYTES_KIND = "the upload process sends as bytes every request whose kind is not 'file': any other kind does the same"
_CHILD_TYPES = (
    "the upload process sends the type of a WxCloudError it caught, or WxCloudError itself for any other error: "
    "the type is always a WxCloudError class"
)
EQUIVALENT: dict[str, tuple[str, str]] = {
    f"{_JOURNAL}replay__mutmut_1": ('encoding=None, errors="replace"', _LOCALE),
    f"{_JOURNAL}replay__mutmut_3": ('read_text(errors="replace")', _LOCALE),
    f"{_JOURNAL}replay__mutmut_6": ('encoding="UTF-8"', "codec names are case-insensitive"),
    f"{_JOURNAL}replay__mutmut_14": ("check_retired(None,", _SWALLOWED),
    f"{_JOURNAL}replay__mutmut_18": ("check_retired(1,", _SWALLOWED),
    f"{_JOURNAL}replay__mutmut_41": (
        "break  # a run for another cloud environment",
        "a journal is one run's, for one env: after a record of another env, every later one is of it too",
    ),
    f"{_JOURNAL}_append__mutmut_5": ("ensure_ascii=None", _ESCAPES),
    f"{_JOURNAL}_append__mutmut_7": ("json.dumps(record, )", _ESCAPES),
    f"{_JOURNAL}_append__mutmut_8": ("ensure_ascii=True", _ESCAPES),
    f"{_JOURNAL}__init____mutmut_5": (
        "token_hex(None)",
        "the nonce only keeps two stores of one process apart: 32 bytes do",
    ),
    f"{_JOURNAL}__init____mutmut_6": (
        "token_hex(4)",
        "the nonce only keeps two stores of one process apart: 4 bytes do",
    ),
    f"{_JOURNAL}open__mutmut_11": ('open(self.path, "a", encoding=None)', _LOCALE),
    f"{_JOURNAL}open__mutmut_14": ('open(self.path, "a", )', _LOCALE),
    f"{_JOURNAL}open__mutmut_18": ('encoding="UTF-8"', _CASE),
    f"{_JOURNAL}close__mutmut_3": (
        "_OPEN.discard(None)",
        "close() deletes the file, and only this Journal can create that path again: its open() adds it to _OPEN",
    ),
    f"{_JOURNAL}replay__mutmut_51": (
        'yield "XXputXX"',
        "the one reader of the records (the store) only asks kind == 'retire'",
    ),
    f"{_JOURNAL}replay__mutmut_52": (
        'yield "PUT"',
        "the one reader of the records (the store) only asks kind == 'retire'",
    ),
    f"{_MANIFEST}hashing.x_sha256_file__mutmut_11": (
        'open(path, "rb", )',
        "a buffered file fills the same 64 KiB buffer with the same bytes (the loop reads to the end either way)",
    ),
    f"{_MANIFEST}hashing.xǁHashingReaderǁread__mutmut_14": (
        "while got <= want:",
        "the extra pass reads 0 bytes (read(0) is b''), adds b'' and stops: the same bytes",
    ),
    f"{_MANIFEST}hashing.xǁHashCacheǁ__init____mutmut_4": ("self._dirty = None", _FALSY),
    f"{_MANIFEST}hashing.xǁHashCacheǁsave__mutmut_8": ("self._dirty = None", _FALSY),
    f"{_MANIFEST}model.x__dump__mutmut_4": ("sort_keys=None", _FALSY),
    f"{_MANIFEST}model.x__dump__mutmut_8": (
        "yaml.dump(data, allow_unicode=True",
        "yaml.Dumper writes str, int and None as CSafeDumper does (compared on Chinese, quotes, '#', ': ', null, yes)",
    ),
    f"{_MANIFEST}model.x__dump__mutmut_12": ("width=1 << 16, )", "default_flow_style=False is PyYAML's default"),
    f"{_MANIFEST}model.x__dump__mutmut_16": ("width=2 << 16", _WIDTH),
    f"{_MANIFEST}model.x__dump__mutmut_17": ("width=1 << 17", _WIDTH),
    f"{_MANIFEST}model.x_from_yaml__mutmut_45": ("if (line) or True else", _PARSED),
    f"{_MANIFEST}model.x_from_yaml__mutmut_46": ("if line else 'XXXX'", _PARSED),
    f"{_MANIFEST}model.x_image_lines__mutmut_5": ("read_text(encoding=None)", _LOCALE),
    f"{_MANIFEST}model.x_image_lines__mutmut_7": ('encoding="UTF-8"', _CASE),
    f"{_MANIFEST}model.x_read__mutmut_2": ("read_text(encoding=None)", _LOCALE),
    f"{_MANIFEST}model.x_read__mutmut_4": ('encoding="UTF-8"', _CASE),
    f"{_MANIFEST}model.x_read__mutmut_10": ('encode("UTF-8")', _CASE),
    f"{_MANIFEST}schema.x__cloud_path__mutmut_9": (
        'startswith("XX/XX")',
        "a leading '/' makes an empty first part, refused by the same rule with the same message",
    ),
    f"{_MANIFEST}schema.x__compose__mutmut_4": (
        "yaml.compose(text, )",
        "composing builds nodes only: PyYAML's loaders compose the same nodes, with the same marks",
    ),
    f"{_MANIFEST}schema.x_line_of__mutmut_8": ("if (node is not None) or True else", _PARSED),
    f"{_MANIFEST}schema.xǁInvalidǁ__init____mutmut_1": (
        "super().__init__(None)",
        "str() of an Invalid is never shown: its callers word the message from .path, .message and .advice",
    ),
    f"{_STORE}__init____mutmut_9": ('encode("UTF-8")', _CASE),
    f"{_STORE}_merge_and_write__mutmut_21": ('encode("UTF-8")', _CASE),
    f"{_STORE}_apply__mutmut_4": (
        "self.manifest.images.pop(path, )",
        "remove(), its one caller with None, applies it only to a path the manifest holds, under the same lock",
    ),
    f"{_STORE}forget_retired__mutmut_4": (
        "self._retire.pop(None, None)",
        "the id is in _unretire too, and each save applies _retire first, then _unretire: it is dropped either way",
    ),
    f"{_STORE}put__mutmut_23": (
        ">= SAVE_INTERVAL",
        "two readings of the monotonic clock exactly SAVE_INTERVAL apart: no run can tell > from >= there",
    ),
    f"{_STORE}_read_disk__mutmut_4": (
        "self._written[1] == _identity(info)",
        "a shortcut only: our own last write is then read from the disk (its parsed cache), the same manifest",
    ),
    f"{_MANIFEST}store.x__probe__mutmut_9": ("prefix=None", _PROBE),
    f"{_MANIFEST}store.x__probe__mutmut_11": ("mkstemp(dir=folder, )", _PROBE),
    f"{_MANIFEST}store.x__probe__mutmut_12": ('prefix="XX.wxcloud-probe-XX"', _PROBE),
    f"{_MANIFEST}store.x__probe__mutmut_13": ('prefix=".WXCLOUD-PROBE-"', _PROBE),
    f"{_REFS}css.x__unescaped__mutmut_19": ("rstrip(None)", _INT),
    f"{_REFS}css.x__unescaped__mutmut_20": (".lstrip(_WS)", _INT),
    f"{_REFS}css.x_escape__mutmut_11": ('ch <= " "', "a space is in the unquoted special set already"),
    f"{_REFS}css.x_escape__mutmut_12": ('ch < "XX XX"', _SHORTCUT),
    f"{_REFS}htmlpage.x__first__mutmut_7": (
        '"XXXX").strip()',
        "a missing attribute then reads 'xxxx', which is no type, rel or as value that counts, as '' is not",
    ),
    f"{_REFS}htmlpage.x_scan_html__mutmut_25": (
        "attribute.start <= attribute.end",
        "an attribute without a value gives the empty URL, which the next check skips as the page itself",
    ),
    f"{_REFS}htmlpage.x_rewrite__mutmut_14": (
        "reference.start <= last",
        "a page's or stylesheet's URL follows a delimiter ('=', a quote, 'url(', a srcset comma): none starts at 0 "
        "or where the previous one ended",
    ),
    f"{_REFS}charset.x__label__mutmut_8": ('decode("ASCII"', _CASE),
    f"{_REFS}charset.x__decode__mutmut_23": ('encoding != "XXutf-8XX"', _UTF8_ROUND_TRIP),
    f"{_REFS}charset.x__decode__mutmut_24": ('encoding != "UTF-8"', _UTF8_ROUND_TRIP),
    f"{_REFS}charset.x__declared_html__mutmut_35": ('b"XXXX").lower() == b"content-type"', "'xxxx' is no http-equiv"),
    f"{_REFS}charset.x__declared_html__mutmut_46": ('found.get(b"content", b"XXXX")', "'XXXX' holds no charset="),
    f"{_REFS}assets.x_kind_of__mutmut_7": ('split("#", )[0]', _FIRST_PART),
    f"{_REFS}assets.x_kind_of__mutmut_12": ('split("?", )[0]', _FIRST_PART),
    f"{_REFS}assets.x_kind_of__mutmut_15": ('split("?", 2)[0]', _FIRST_PART),
    f"{_REFS}assets.x_kind_of__mutmut_18": ('split("#", 2)[0]', _FIRST_PART),
    f"{_REFS}assets.x_parse__mutmut_31": ("XX./", "the name is lower-cased: it holds no X"),
    f"{_REFS}pool.x_idle_cores__mutmut_4": (
        "busy = 1.0",
        "min(cores, cores + 1 - busy): a busy of 0 or of 1 both leave every core idle",
    ),
    f"{_REFS}pool.x_render__mutmut_39": ("size = max(2,", _CHUNKS),
    f"{_REFS}pool.x_render__mutmut_46": ("(processes * 5)", _CHUNKS),
    f"{_REFS}sourcemap.x_rewrite_source__mutmut_21": (
        "token_hex(None)",
        "the nonce only keeps markers unlike page text",
    ),
    f"{_REFS}sourcemap.x_rewrite_source__mutmut_22": ("token_hex(5)", "the nonce only keeps markers unlike page text"),
    f"{_REFS}pages.x_read_page__mutmut_4": ('decode("UTF-8-SIG")', _CASE),
    f"{_REFS}urls.x_line_of__mutmut_18": ('count("\\n", None,', "str.count reads a start of None as 0"),
    f"{_REFS}sourcemap.x_rewrite_source__mutmut_26": ("marked, last = [], 1", _ONE_BY_ONE),
    f"{_REFS}sourcemap.x_rewrite_source__mutmut_41": ('"XXXX".join(marked)', _ONE_BY_ONE),
    f"{_REFS}sourcemap.x_rewrite_source__mutmut_44": ("if (u in markers) and False else u", _ONE_BY_ONE),
    f"{_REFS}sourcemap.x__candidate_spans__mutmut_13": (
        "end = [], +1",
        "a URL at offset 0 of a page is never a reference: '![', '[', '<', a quote or '=' comes before each",
    ),
    f"{_REFS}urls.x_resolve__mutmut_2": ('if not url and url.startswith("#")', _NO_PATH),
    f"{_REFS}urls.x_resolve__mutmut_5": ('url.startswith("XX#XX")', _NO_PATH),
    f"{_REFS}urls.x_resolve__mutmut_9": (
        "parts.netloc and not parts.path",
        "a URL has a netloc only after '//' or a scheme, both refused on the same line",
    ),
    f"{_REFS}urls.x_resolve__mutmut_46": ('joined in (".", "XXXX")', "normpath never returns '': it gives '.'"),
    f"{_REFS}urls.x_url_quote__mutmut_22": ("""replace("'", "XXXX")""", _SAFE_X),
    f"{_REFS}urls.x_url_quote__mutmut_24": ('replace("(", "XXXX")', _SAFE_X),
    f"{_REFS}urls.x_url_quote__mutmut_26": ('replace(")", "XXXX")', _SAFE_X),
    f"{_REFS}urls.x_url_quote__mutmut_28": ('replace(",", "XXXX")', _SAFE_X),
    f"{_REFS}sourcemap.x__candidate_spans__mutmut_14": (
        "end = [], -2",
        "spans start at 0 or later: -1 and -2 pass them all",
    ),
    f"{_REFS}css.x_urls__mutmut_24": ("comment_end <= 0", _COMMENT_END),
    f"{_REFS}css.x_urls__mutmut_25": ("comment_end < 1", _COMMENT_END),
    f"{_REFS}css.x_urls__mutmut_30": (
        'in "XXuUXX"',
        "a token starts with '/', 'u', 'U', a quote or '&' (a quote written as a reference): never with X",
    ),
    f"{_REFS}tokenizer.x__decoded__mutmut_20": ("min(len(name), 7)", _WHOLE_NAME),
    f"{_REFS}tokenizer.x__decoded__mutmut_23": ("1, -2)", _WHOLE_NAME),
    f"{_REFS}tokenizer.x_escape__mutmut_5": ("html.escape(value, )", "html.escape escapes quotes by default"),
    f"{_REFS}tokenizer.x_escape__mutmut_10": ("ch not in written", _SHORTCUT),
    f"{_REFS}tokenizer.x_escape__mutmut_11": ('any(ch in written for ch in "XX', _SHORTCUT),
    f"{_REFS}tokenizer.x_srcset_spans__mutmut_23": (
        "while end >= start",
        "a URL's first character is no comma (the loop before skips them): the stripping stops at start + 1 anyway",
    ),
    f"{_REFS}tokenizer.x_start_tags__mutmut_20": (
        'content = ""',
        "a tag's content is read only for a <style>, which always has one",
    ),
    f"{_REFS}tokenizer.x_start_tags__mutmut_45": (
        'match.start("name") + 1',
        "rawhtml copies the text up to a tag's start, then the tag from there: a start inside the tag's name "
        "(before its attributes) writes the same text",
    ),
    f"{_REFS}rawhtml.x_rewrite_value__mutmut_1": (
        """quote: str = 'XX"XX'""",
        "the quote is read only for an encoded value, and every caller of one passes its quote",
    ),
    **{
        f"{_REFS}rawhtml.x__worth_parsing__mutmut_{n}": (
            text,
            "the counts only spare the regular expression after them, which tells an href that is a fragment alone "
            "apart by itself",
        )
        for n, text in (
            (15, """("href='#") - lowered"""),
            (16, """('href="#') - lowered"""),
            (18, "XXhref="),
            (19, "count('HREF=\"#')"),
            (21, "XXhref='#XX"),
            (22, 'count("HREF=\'#")'),
            (24, "XXhref=#XX"),
            (25, 'count("HREF=#")'),
            (26, "links > fragments or bool("),
            (27, "links >= fragments and"),
        )
    },
    **{
        f"{_REFS}scanner.x__plain_highlighting__mutmut_{n}": (text, _NO_CODE)
        for n, text in (
            (8, "inline: bool = True"),
            (11, "inline=None"),
            (14, "language, inline=inline"),
            (15, "*args, **kwargs)"),
        )
    },
    f"{_REFS}scanner.x__plain_highlighting__mutmut_20": ('Element("XXcodeXX")', _UNWRITTEN),
    f"{_REFS}scanner.x__plain_highlighting__mutmut_21": ('Element("CODE")', _UNWRITTEN),
    f"{_REFS}scanner.xǁScannerǁ__init____mutmut_9": ("= None", "references() starts every page with a new list"),
    f"{_REFS}rawhtml.x__rewrite_tag__mutmut_63": ("html.escape(v, )", "html.escape escapes quotes by default"),
    f"{_REFS}tokenizer.x__attribute__mutmut_26": (
        "found.end(), found.end(), None)",
        "the quote of an attribute without a value is only read for its truth, and such an attribute is skipped",
    ),
    f"{_REFS}treeprocessor.xǁImageTreeprocessorǁrun__mutmut_27": (
        "raw=None, stash=stash)",
        "raw is only read for its truth",
    ),
    f"{_REFS}treeprocessor.x__rewrite_elements__mutmut_3": (
        "if (isinstance(element.tag, str)) or True",
        "a comment's or processing instruction's tag is a function: no key of the dictionary either",
    ),
    f"{_REFS}treeprocessor.x__rewrite_elements__mutmut_21": ("str(element.tag).upper()", _STYLED),
    f"{_REFS}treeprocessor.x__rewrite_elements__mutmut_22": ("str(None).lower()", _STYLED),
    f"{_REFS}treeprocessor.xǁImageTreeprocessorǁrun__mutmut_65": ("raw=True, stash=None)", _ELEMENT_RAW),
    f"{_REFS}treeprocessor.xǁImageTreeprocessorǁrun__mutmut_70": ("sized, raw=True, )", _ELEMENT_RAW),
    f"{_REFS}treeprocessor.x__as_read__mutmut_23": ('if ("&" in plain) or True', "a shortcut: no '&', no reference"),
    f"{_REFS}treeprocessor.x__stashed__mutmut_6": (
        "if (isinstance(block, str)) or True",
        "only inline patterns put placeholders into attribute values, and they stash text (an entity, inline "
        "HTML): never an element",
    ),
    f"{_EXCLUDE}x__in_name__mutmut_3": (
        '"XX._-~XX"',
        "the text is lower-cased: it holds no X, and the rest is the same set",
    ),
    f"{_EXCLUDE}x_unmentioned__mutmut_34": ("read_text(encoding=None,", _LOCALE),
    f"{_EXCLUDE}x_unmentioned__mutmut_36": ('read_text(errors="replace")', _LOCALE),
    f"{_EXCLUDE}x_unmentioned__mutmut_41": ('encoding="UTF-8"', "codec names are case-insensitive"),
    f"{_EXCLUDE}x_unmentioned__mutmut_11": ("key=None, reverse=True", _LONGEST_FIRST),
    f"{_EXCLUDE}x_unmentioned__mutmut_14": ("by_name}, reverse=True)", _LONGEST_FIRST),
    f"{_WX}auth.xǁCredentialsǁ__init____mutmut_24": (
        '| None = ""',
        "the cached cloudbase token is read only for its truth: an empty text and None both mean none read yet",
    ),
    f"{_WX}deadline.xǁ_Readerǁreadinto__mutmut_3": (
        "if left < 0:",
        "a deadline and a monotonic clock reading exactly equal: no run can tell < from <= there",
    ),
    **{
        f"{_WX}deadline.xǁ_Readerǁreadinto__mutmut_{n}": (text, _TIMEOUT_WORDS)
        for n, text in ((5, "TimeoutError(None)"), (6, '"XXthe answer'), (7, '"THE ANSWER'))
    },
    f"{_WX}deadline.xǁ_Responseǁ__init____mutmut_3": (
        "super().__init__(sock, **kwargs)",
        "http.client passes an argument by position only with its debuglevel set (debug lines on stdout), which "
        "nothing here sets",
    ),
    f"{_WX}deadline.xǁ_Responseǁ__init____mutmut_4": (
        "super().__init__(sock, *args, )",
        "http.client is given only method= by keyword, which it reads only to tell a HEAD answer (no body): every "
        "request here is a POST",
    ),
    f"{_WX}tokens.x_token_cache_key__mutmut_8": ('.encode("UTF-8")', "codec names are case-insensitive"),
    f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_11": ("mode=449", "449 is 0o700"),
    **{
        f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_{n}": (text, _TEMP_NAME)
        for n, text in (
            (16, "prefix=None"),
            (17, "suffix=None)"),
            (19, 'mkstemp(dir=path.parent, suffix=".tmp")'),
            (20, 'prefix=".token-", )'),
            (21, '"XX.token-XX"'),
            (22, '".TOKEN-"'),
            (23, '"XX.tmpXX"'),
            (24, '".TMP"'),
        )
    },
    f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_27": (
        'os.fdopen(fd, "w", encoding=None)',
        _LOCALE + " (json.dump writes ASCII anyway)",
    ),
    f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_34": ('encoding="UTF-8"', "codec names are case-insensitive"),
    f"{_WX}client.xǁWxCloudClientǁupload__mutmut_11": (
        "type(None).__name__",
        "open() raises every failure the system reports with its strerror (an unknown errno too): the fallback "
        "names only an OSError made without one, which open() never raises",
    ),
    **{
        f"{_WX}client.xǁWxCloudClientǁ__init____mutmut_{n}": (text, "any scheme but http(s) is refused alike")
        for n, text in ((9, "scheme = None"), (10, 'scheme = "XXXX"'))
    },
    f"{_WX}transport.x__user_agent__mutmut_4": (
        '"MKDOCS-WXCLOUD"',
        "importlib.metadata normalizes a distribution's name (PEP 503): case does not matter",
    ),
    f"{_WX}transport.xǁTransportǁ__init____mutmut_28": (
        "max(2, concurrency)",
        "one request at a time never needs a second pooled connection; a pool's size only decides whether a "
        "connection beyond it is kept for reuse, no answer differs",
    ),
    f"{_WX}transport.xǁTransportǁ_send__mutmut_11": (
        "(streamed) or True",
        "a JSON body is a few hundred bytes, in the socket's buffer at once: the time it is sent is the start",
    ),
    **{
        f"{_WX}transport.xǁTransportǁ_send__mutmut_{n}": (text, _NO_LOCATION)
        for n, text in ((51, '"Location", None)'), (53, '.get("Location", )'), (57, '"XXXX")) or "elsewhere"'))
    },
    f"{_WX}transport.xǁTransportǁ_send__mutmut_55": ('.get("location", "")', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁ_send__mutmut_56": ('.get("LOCATION", "")', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁcall_json__mutmut_48": (
        'parsed = ""',
        "an answer that is no JSON is then told apart only by not being a dict: an empty text is not one either",
    ),
    **{
        f"{_WX}pools.xǁPoolsǁpost__mutmut_{n}": (text, _SAME_HOST)
        for n, text in (
            (31, "assert_same_host=None)"),
            (38, "preload_content=False, )"),
            (43, "assert_same_host=True)"),
        )
    },
    **{
        f"{_WX}pools.xǁPoolsǁ__init____mutmut_{n}": (
            text,
            "every answer is read by the deadline's reader (deadline.py), which sets the socket's timeout before each "
            "read to what is left of `timeout`: urllib3's read timeout is replaced either way",
        )
        for n, text in ((19, "read=None)"), (21, "Timeout(connect=timeout, )"))
    },
    f"{_WX}pools.xǁPoolsǁ__init____mutmut_35": ('{"user-agent": user_agent}', _HEADER_CASE),
    f"{_WX}pools.xǁPoolsǁ__init____mutmut_36": ('{"USER-AGENT": user_agent}', _HEADER_CASE),
    f"{_WX}pools.xǁPoolsǁ_new_manager__mutmut_8": (
        'prepend_scheme_if_needed(proxy, "HTTP")',
        "URL schemes are case-insensitive: urllib3 parses HTTP:// as http://, and the SOCKS test lower-cases it",
    ),
    f"{_WX}pools.xǁPoolsǁpost__mutmut_29": ("redirect=None,", "urllib3 reads `redirect` only for its truth"),
    f"{_WX}pools.xǁPoolsǁpost__mutmut_4": (
        "self._route(None, parts.netloc, url)",
        "routes are then keyed by host:port alone: a run never asks one netloc under two schemes (a host:port "
        "speaks one of them, and the API and COS hosts differ)",
    ),
    f"{_WX}pools.xǁPoolsǁpost__mutmut_30": ("preload_content=None", "urllib3 reads preload_content only for its truth"),
    f"{_WX}transport.xǁTransportǁ__init____mutmut_13": ('"XXurllib3.util.retryXX"', _NO_RETRY_LOG),
    f"{_WX}transport.xǁTransportǁ__init____mutmut_14": ('"URLLIB3.UTIL.RETRY"', _NO_RETRY_LOG),
    f"{_WX}transport.xǁTransportǁ_send__mutmut_28": ("200 <= response.status <= 300", _NO_300),
    f"{_WX}transport.xǁTransportǁ_send__mutmut_29": ("200 <= response.status < 301", _NO_300),
    f"{_WX}transport.x__remaining__mutmut_15": (
        "return end + position",
        "the upload rewinds its reader (seek(0)) before every try, so the position is 0 and end ± 0 agree",
    ),
    f"{_WX}media.x_content_type__mutmut_8": (
        "strict=None)",
        "mimetypes.guess_type reads `strict` only for its truth: None is as false as False",
    ),
    f"{_WX}answers.x_check_success__mutmut_18": (
        "if (field) or True else []",
        "a JSON object's keys are strings: answer.get(None) is None, and the loop runs over nothing either way",
    ),
    f"{_WX}retry.xǁRetryPolicyǁrun__mutmut_1": ("same_token = None", _FALSY),
    f"{_WX}answers.x__kind__mutmut_5": (".get(type(value), None)", _JSON_TYPES),
    f"{_WX}answers.x__kind__mutmut_7": (".get(type(value), )", _JSON_TYPES),
    f"{_WX}answers.x__kind__mutmut_21": ("type(None).__name__", _JSON_TYPES),
    f"{_WX}answers.x__kind_name__mutmut_2": (".get(kind, None)", _CHECKED_KINDS),
    f"{_WX}answers.x__kind_name__mutmut_4": (".get(kind, )", _CHECKED_KINDS),
    f"{_WX}answers.x__kind_name__mutmut_13": (".get(kind, str(None))", _CHECKED_KINDS),
    f"{_WX}auth.xǁCredentialsǁrenew__mutmut_10": (
        'self._cloudbase = ""',
        "the cached cloudbase token is read only for its truth: an empty text and None both make the next call "
        "read the file again",
    ),
    f"{_WX}auth.xǁCredentialsǁrenew__mutmut_12": (
        'self.auth != "token" and rejected is None',
        "the credential is None exactly when auth is openapi (current() gives a pair in the other modes), so "
        "`or` and `and` decide alike",
    ),
    f"{_WX}auth.xǁCredentialsǁ_cloudbase_token__mutmut_7": ("read_text(encoding=None)", _LOCALE),
    f"{_WX}auth.xǁCredentialsǁ_cloudbase_token__mutmut_9": ('encoding="UTF-8"', "codec names are case-insensitive"),
    f"{_WX}errors.x_http_status_error__mutmut_8": (
        '"X-OPENAPI-SEQID"',
        "the answer's headers are urllib3's HTTPHeaderDict, whose look-ups ignore case",
    ),
    f"{_WX}errors.xǁApiErrorǁ__init____mutmut_1": (
        'hint: str = "XXXX"',
        "every ApiError is made with its hint (api_error, stale_token), an empty one included: the default is "
        "never taken",
    ),
    f"{_WX}errors.x__hint__mutmut_26": ("_HINTS.get(errcode, None)", _FALSY_HINT),
    f"{_WX}errors.x__hint__mutmut_28": ("_HINTS.get(errcode, )", _FALSY_HINT),
    f"{_WX}errors.xǁCosErrorǁ__init____mutmut_12": ("else code, None)", _FALSY_HINT),
    f"{_WX}errors.xǁCosErrorǁ__init____mutmut_14": ("else code, )", _FALSY_HINT),
    f"{_WX}errors.x_cos_error__mutmut_12": ('decode("UTF-8", "replace")', "codec names are case-insensitive"),
    f"{_WX}errors.x_cos_error__mutmut_31": ('tag.rsplit("}", )', _ONE_BRACE),
    f"{_WX}errors.x_cos_error__mutmut_32": ('tag.split("}", 1)', _ONE_BRACE),
    f"{_WX}errors.x_cos_error__mutmut_34": ('tag.rsplit("}", 2)', _ONE_BRACE),
    f"{_WX}tokens.x_default_cache_dir__mutmut_8": (
        '"XDG_CACHE_HOME", "XXXX"',
        "an unset variable gives a relative path either way (empty or XXXX): the cache goes under ~/.cache",
    ),
    f"{_WX}tokens.xǁTokenCacheǁdiscard__mutmut_6": ('("", 1.0)', "only the token of the default pair is read"),
    f"{_WX}transport.x__reason__mutmut_3": ('getattr(None, "reason", None)', _NO_REASON),
    f"{_WX}transport.x__reason__mutmut_8": ('"XXreasonXX"', _NO_REASON),
    f"{_WX}transport.x__reason__mutmut_9": ('"REASON"', _NO_REASON),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_37": (
        "_remaining(handle) < IN_ONE_PIECE",
        "a form of exactly 1 MiB is built at once or streamed: the same fields and bytes reach COS",
    ),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_49": ('{"content-type": form_type}', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_50": ('{"CONTENT-TYPE": form_type}', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_57": ('{"content-type": form.content_type', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_58": ('{"CONTENT-TYPE": form.content_type', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_60": ('"content-length": str(form.len)', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_61": ('"CONTENT-LENGTH": str(form.len)', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_70": ("whole=None", "`whole` is read only for its truth"),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_83": ("answer.status <= 300", _NO_300),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_84": ("answer.status < 301", _NO_300),
    f"{_WX}tokens.xǁTokenCacheǁ_read__mutmut_6": ("read_text(encoding=None)", _LOCALE + " (json.dump wrote ASCII)"),
    f"{_WX}tokens.xǁTokenCacheǁ_read__mutmut_8": ('read_text(encoding="UTF-8")', "codec names are case-insensitive"),
    f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_30": (
        'os.fdopen(fd, "w", )',
        _LOCALE + " (json.dump writes ASCII anyway)",
    ),
    f"{_WX}tokens.xǁTokenCacheǁdiscard__mutmut_5": (
        '("XXXX", 0.0)',
        "the default stands for no token in memory; it is compared with a token the server issued and the client "
        "was refused, which is never the mutant's 'XXXX' (nor the original's empty text)",
    ),
    f"{_WX}tokens.xǁTokenCacheǁload__mutmut_9": (
        "time.time() >= EXPIRY_MARGIN",
        "the expiry is compared with a clock that moves: no token can be made to have exactly 300.0 s left",
    ),
    f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_58": (
        "type(None).__name__",
        "mkdir, mkstemp, the write and os.replace raise OSErrors that carry an errno and its strerror: the type "
        "name is never the one shown",
    ),
    f"{_WX}auth.xǁCredentialsǁ__init____mutmut_21": (
        "self._forced_refresh = None",
        "the flag is read only for its truth (`not self._forced_refresh`): None and False both mean not yet",
    ),
    **{
        f"{_WX}auth.xǁCredentialsǁ__init____mutmut_{n}": (
            text,
            "auth 'token', the only mode that sends or keys anything by the AppID and AppSecret, refuses to start "
            "without both (WxCloudClient): the default for a missing one is never used",
        )
        for n, text in ((6, 'account.appid or "XXXX"'), (9, 'account.secret or "XXXX"'))
    },
    f"{_WX}auth.xǁCredentialsǁ_cloudbase_token__mutmut_13": (
        "exc.strerror or type(None).__name__",
        "read_text raises OSErrors from the OS, each with an errno and its strerror: the type name is never shown",
    ),
    f"{_WX}auth.xǁCredentialsǁ_cloudbase_token__mutmut_4": (
        "<= _CLOUDBASE_TOKEN_MAX_AGE",
        "the age is measured on a clock that moves: no read can be made to be exactly 300.0 s old",
    ),
    **{
        f"{_WX}auth.xǁCredentialsǁtoken__mutmut_{n}": (
            "time.time() >= EXPIRY_MARGIN",
            "the expiry is compared with a clock that moves: no token can be made to have exactly 300.0 s left",
        )
        for n in (10, 17)
    },
    f"{_WX}auth.xǁCredentialsǁtoken__mutmut_5": (
        "current = None",
        "skipping the check outside the lock only takes the lock: the same check under it gives the same token",
    ),
    **{
        f"{_WX}auth.xǁCredentialsǁ{name}__mutmut_{n}": (
            text,
            "the token is in the TokenCache's memory, stored just before: a call that finds none in the "
            "Credentials loads the same one from there (never another stable_token call)",
        )
        for name, n, text in (
            ("token", 12, "current = None"),
            ("token", 32, "self._token = None"),
            ("renew", 51, "self._token = None"),
        )
    },
    f"{_WX}transport.xǁTransportǁ_read__mutmut_7": ('.get("content-length", "")', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁ_read__mutmut_8": ('.get("CONTENT-LENGTH", "")', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁ_read__mutmut_9": (
        '.get("Content-Length", "XXXX")',
        "the default stands for no declared size, and is read only through isdigit(): 'XXXX' and '' both are not",
    ),
    **{
        f"{_WX}transport.xǁTransportǁ_read__mutmut_{n}": (
            text,
            "a read asking for more only reads past the limit sooner: the answer is cut at the limit, or refused "
            "past it, all the same",
        )
        for n, text in ((25, "read1(None)"), (31, "limit + size + 1"), (32, "limit - size + 2"))
    },
    **{
        f"{_WX}transport.x__remaining__mutmut_{n}": (
            text,
            "the size only chooses between a form built at once and one streamed: the same fields and bytes reach "
            "COS, and the handle is sought back to where it was either way",
        )
        for n, text in ((11, "seek(os.SEEK_END)"), (12, "seek(0, )"), (13, "seek(1, os.SEEK_END)"))
    },
    f"{_WX}transport.xǁTransportǁcall_json__mutmut_10": (
        "ensure_ascii=None",
        "json.dumps reads ensure_ascii only for its truth",
    ),
    f"{_WX}transport.xǁTransportǁcall_json__mutmut_15": ('.encode("UTF-8")', "codec names are case-insensitive"),
    f"{_WX}transport.xǁTransportǁcall_json__mutmut_30": ('{"content-type": _JSON}', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁcall_json__mutmut_31": ('{"CONTENT-TYPE": _JSON}', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁcall_json__mutmut_57": (
        'decode("UTF-8", "replace")',
        "codec names are case-insensitive",
    ),
    # publishing/
    f"{_PUBLISHING}current.xǁDeciderǁexpiring__mutmut_4": (
        "time.time() <= self.link_max_age / 2",
        "a link's expiry (whole seconds) and a float clock reading exactly half its lifetime apart: no run can tell "
        "< from <= there",
    ),
    f"{_CONNECTION}x__is_emulator__mutmut_7": (
        "timeout=3)",
        "2 or 3 seconds to wait for a loopback answer: only the time differs, which no test asserts",
    ),
    f"{_CONNECTION}x_ensure_emulator__mutmut_46": (
        "_emulators[settings.emulator_address] = None",
        "the table is only asked whether an address is in it; the emulator's server thread keeps it running",
    ),
    f"{_PUBLISHING}remote.x_missing_in_cloud__mutmut_7": (
        "images.values()}), 61)",
        "only the per-file errors are read: the links, whose lifetime max_age sets, are dropped",
    ),
    f"{_PUBLISHING}remote.x_missing_in_cloud__mutmut_5": (
        "images.values()}), )",
        "only the per-file errors are read: the links, whose lifetime max_age sets, are dropped",
    ),
    f"{_PUBLISHING}settings.x__word__mutmut_2": (
        "(isinstance(value, bool)) or True",
        "every choice an option declares is a bool or a lower-case word (warn, fail, auto, token, openapi, cloudbase)",
    ),
    f"{_PUBLISHING}optimizing.xǁOptimizerǁ_key__mutmut_2": (
        "hexdigest()[:41]",
        "the cache's file names, written and read by this one function: a longer key only makes "
        "the caches of earlier runs miss once (optimizer time, no other result)",
    ),
    f"{_PUBLISHING}optimizing.xǁOptimizerǁprepare__mutmut_47": (
        "(outcome.data is not None) or True",
        "when the optimizer kept the bytes, body is the source, whose hash the caller checked is sha",
    ),
    f"{_PUBLISHING}sources.xǁDocsFilesǁrehash__mutmut_6": (
        "digest(path, full, None, force=True)",
        "without a stat, digest() stats the same file itself an instant later",
    ),
    f"{_PUBLISHING}links.xǁStorageAccessǁpublic__mutmut_5": (
        "self.requests_made = 1",
        "a run has one env, whose storage has one download host, asked at most once (the answer is kept, even none)",
    ),
    f"{_PUBLISHING}imports.x_remote_problem__mutmut_6": (
        '"HTTPS:" + reference.url',
        "split_url lower-cases the scheme: HTTPS: names the same URL",
    ),
    **{
        f"{_PUBLISHING}imports.x_remote_problem__mutmut_{n}": (text, _NEVER_UNSPLIT)
        for n, text in ((21, "(parts is not None) or True"), (23, '"XXits hostXX"'), (24, '"ITS HOST"'))
    },
    f"{_PUBLISHING}links.x_serves__mutmut_9": ('{"range": "bytes=0-0"}', _RANGE_CASE),
    f"{_PUBLISHING}links.x_serves__mutmut_10": ('{"RANGE": "bytes=0-0"}', _RANGE_CASE),
    f"{_PUBLISHING}links.x_get__mutmut_5": (
        "allow_redirects=None)",
        "requests follows redirects only when allow_redirects is true: None is False",
    ),
    f"{_DOCTOR}xǁ_Failedǁ__init____mutmut_2": (
        "super().__init__(None)",
        "a _Failed is always caught by Doctor._step, which reads detail and advice, never str()",
    ),
    f"{_DOCTOR}xǁDoctorǁ_upload__mutmut_2": (
        'self.created[cloud_path] = ""',
        'a probe\'s id is only tested for truth: None and "" are both no id',
    ),
    **{
        f"{_DOCTOR}xǁDoctorǁ_cleanup__mutmut_{n}": (text, _AFTER_LATENCY)
        for n, text in (
            (5, "self._timed(None, step"),
            (11, '"XXbatchdeletefileXX"'),
            (12, '"BATCHDELETEFILE"'),
            (18, "self._timed(None, step"),
            (24, '"XXbatchdownloadfileXX"'),
            (25, '"BATCHDOWNLOADFILE"'),
        )
    },
    f"{_DOCTOR}xǁDoctorǁ_step__mutmut_4": ('"ok", None)', _DETAIL_SET),
    f"{_DOCTOR}xǁDoctorǁ_step__mutmut_18": ('"ok", "XXXX")', _DETAIL_SET),
    f"{_DOCTOR}xǁDoctorǁ_step__mutmut_13": (
        'strip("XX_XX")',
        "strip takes a set of characters, and no step's name starts or ends with X",
    ),
    f"{_DOCTOR}xǁDoctorǁ__init____mutmut_7": (
        'or "XXXX"',
        "without an env the configuration step fails, and no later step (the only users of env) runs",
    ),
    f"{_DOCTOR}xǁDoctorǁ_connect__mutmut_23": (
        "Limits(5, settings.timeout",
        "the diagnosis sends one request at a time (sequential steps, batches of at most 4 ids): no pool fills",
    ),
    **{
        f"{_DOCTOR}xǁDoctorǁ_upload__mutmut_{n}": (text, _FORM_NAME)
        for n, text in (
            (3, "name = None"),
            (7, 'rsplit("/", )[1]'),
            (8, 'cloud_path.split("/", 1)[1]'),
            (10, 'rsplit("/", 2)[1]'),
            (21, "io.BytesIO(data), None, known)"),
        )
    },
    f"{_DOCTOR}xǁDoctorǁ_created_ids__mutmut_9": (
        "known.get(None) or base + path",
        "a file id is cloud://<env>.<bucket>/<cloud path>: the id made from a sibling's is the id the probe got",
    ),
    f"{_DOCTOR}xǁDoctorǁ_links__mutmut_67": (
        "signed[1]",
        "the probes are in one storage: any of their signed links tells whether it serves unsigned URLs",
    ),
    f"{_DOCTOR}xǁDoctorǁ_cleanup__mutmut_35": (
        'answers.get(i, "XXXX")',
        "an id missing from the answer is no FILE_NONEXIST either way: kept as left",
    ),
    **{
        f"{_PROBES}x_png__mutmut_{n}": (text, "struct packs these small lengths and sizes the same signed or unsigned")
        for n, text in ((18, 'struct.pack(">i", len(data))'), (45, 'struct.pack(">iibbbbb"'))
    },
    **{
        f"{_PROBES}x_probes__mutmut_{n}": (f"png({colour})", _COLOUR)
        for n, colour in (
            (9, "8, 193, 96"),
            (10, "7, 194, 96"),
            (11, "7, 193, 97"),
            (24, "251, 81, 81"),
            (25, "250, 82, 81"),
            (26, "250, 81, 82"),
        )
    },
    **{
        f"{_OFFLOAD}xǁUploadProcessǁsend_file__mutmut_{n}": (text, _CAST)
        for n, text in ((1, "cast(None, self._ask("), (5, '"XXtuple[str, str]XX"'), (6, '"TUPLE[STR, STR]"'))
    },
    f"{_OFFLOAD}xǁUploadProcessǁsend_bytes__mutmut_1": ("cast(None, self._ask(", _CAST),
    **{
        f"{_OFFLOAD}xǁUploadProcessǁsend_bytes__mutmut_{n}": (text, _BYTES_KIND)
        for n, text in ((5, "self._ask(None, None, target"), (14, '"XXbytesXX"'), (15, '"BYTES"'))
    },
    f"{_OFFLOAD}xǁUploadProcessǁsend_bytes__mutmut_8": ("target, body, None)", _FORM_NAME),
    f"{_OFFLOAD}xǁUploadProcessǁsend_file__mutmut_11": ("str(full), target, None, size", _FORM_NAME),
    **{
        f"{_OFFLOAD}xǁHereǁsend_bytes__mutmut_{n}": (text, _FORM_NAME)
        for n, text in ((3, "io.BytesIO(body), None)"), (6, "io.BytesIO(body), )"))
    },
    **{
        f"{_OFFLOAD}xǁUploadProcessǁ__init____mutmut_{n}": (text, _PROCESS_NAME)
        for n, text in (
            (18, "name=None, daemon=True"),
            (22, "        daemon=True,"),
            (24, '"XXwxcloud-uploadsXX"'),
            (25, '"WXCLOUD-UPLOADS"'),
        )
    },
    f"{_OFFLOAD}x__rebuilt__mutmut_2": ("isinstance(kind, type) or issubclass", _CHILD_TYPES),
    f"{_OFFLOAD}x__rebuilt__mutmut_7": ("return WxCloudError(None)", _CHILD_TYPES),
    f"{_PUBLISHING}run.xǁRunǁfinish__mutmut_12": (
        "if lost or not self.uploads.cancelled:",
        "with nothing lost the second pass sends and asks for nothing; and a cancelled run's link call is refused "
        "(its client is cancelled), so no path answers STORAGE_FILE_NONEXIST and nothing is lost",
    ),
    f"{_PUBLISHING}run.xǁRunǁfinish__mutmut_23": (
        "self._entries(None, only=lost)",
        "every lost path was stored by this run (it is in uploads.done), so the store has the entry of the digest "
        "_entries looks up: the second pass never writes an error into the report",
    ),
    f"{_PUBLISHING}run.xǁRunǁfinish__mutmut_32": (
        "if status.adopted or status.entry is not None:",
        "a status that is not adopted serves the manifest's own entry (entry == stored): recording it is a no-op",
    ),
    **{
        f"{_PUBLISHING}run.xǁRunǁ_entries__mutmut_{n}": (text, _RECORDED)
        for n, text in (
            (23, "why or str(None)"),
            (24, 'self.fatal and "not uploaded"'),
            (25, '"XXnot uploadedXX"'),
            (26, '"NOT UPLOADED"'),
        )
    },
    **{
        f"{_PUBLISHING}uploads.xǁUploadsǁ_check_writable__mutmut_{n}": (
            text,
            "only how often the check is made: a manifest found writable is found writable again",
        )
        for n, text in ((2, "self._writable = None"), (3, "self._writable = False"))
    },
    **{
        f"{_PUBLISHING}imports.xǁImportsǁname__mutmut_{n}": (text, _FIRST_PART)
        for n, text in ((27, 'split("?", )[0]'), (30, 'split("?", 2)[0]'))
    },
    **{
        f"{_PUBLISHING}imports.xǁImportsǁ{name}__mutmut_{n}": (text, _RUN_DOWNLOADS)
        for name, n, text in (
            ("known_digest", 1, "known = None"),
            ("known_digest", 2, "self._known.get(None)"),
            ("digest", 2, "self.known_digest(None)"),
            ("fetched", 2, "self._known.get(None), self._failed.get(source)"),
        )
    },
    **{
        f"{_PUBLISHING}uploads.xǁUploadsǁ{name}__mutmut_{n}": (text, _INVARIANT)
        for name, n, text in (
            ("client", 6, '"XXan offline run makes no clientXX"'),
            ("client", 7, '"AN OFFLINE RUN MAKES NO CLIENT"'),
            ("submit", 7, '"XXan online run needs an executorXX"'),
            ("submit", 8, '"AN ONLINE RUN NEEDS AN EXECUTOR"'),
        )
    },
    f"{_PUBLISHING}uploads.xǁUploadsǁ__init____mutmut_16": ("self._writable = None", _FALSY),
    **{
        f"{_PUBLISHING}run.xǁRunǁ_enqueue__mutmut_{n}": (
            text,
            "a file queued to be hashed first takes its size from the hash: the size given is never read",
        )
        for n, text in ((12, "submit(path, None, None)"), (16, "submit(path, None, 1)"))
    },
    f"{_PUBLISHING}imports.xǁImportsǁ_migrated__mutmut_20": (
        "for i in range(len(segments))",
        "the first candidate is the whole path with its leading slash, which no cloud path has",
    ),
    f"{_PUBLISHING}imports.xǁImportsǁfetched__mutmut_12": ("self._known[source] = None", _RUN_DOWNLOADS),
    f"{_PUBLISHING}imports.xǁImportsǁtarget__mutmut_13": (
        "written[:9]",
        "the longer of the prefixes looked for (https://) has 8 characters",
    ),
    f"{_PUBLISHING}run.xǁRunǁ__init____mutmut_106": (
        "access, None, settings.link_max_age)",
        "with base_url, the decider and the uploads give every entry its static URL: none waits for a link",
    ),
    f"{_PUBLISHING}run.xǁRunǁ__init____mutmut_70": (
        "(mode.offline) and False",
        "an offline run queues no upload (it refuses), so its finish asks for no link: no client is ever made",
    ),
    **{
        f"{_PUBLISHING}run.xǁRunǁ__init____mutmut_{n}": (
            text,
            "the name of a cache file that only this release reads: any name works (a renamed one is filled again once)",
        )
        for n, text in ((29, '"XXhashes.jsonXX"'), (30, '"HASHES.JSON"'))
    },
    f"{_PUBLISHING}uploads.xǁUploadsǁ__init____mutmut_18": ("self.cancelled = None", _FALSY),
    **{
        f"{_PUBLISHING}sources.xǁDocsFilesǁ{name}__mutmut_{n}": (text, _MEMO)
        for name, n, text in (
            ("digest", 1, "known = None"),
            ("digest", 2, "self._digests.get(None)"),
            ("digest", 9, "self.hashes.digest(path, full, None)"),
            ("digest", 12, "self.hashes.digest(path, full, )"),
            ("known_digest", 1, "known = None"),
            ("known_digest", 2, "self._digests.get(None)"),
            ("known_digest", 11, "if known is None:"),
            ("known_digest", 12, "self._digests[path] = None"),
            ("rehash", 10, "self.hashes.digest(path, full, force=True)"),
        )
    },
    f"{_PUBLISHING}uploads.xǁUploadsǁ_store_file__mutmut_18": (
        "if (self._policy.on_progress) or True else None",
        "on_read only calls _progress, which tells no one when no on_progress was given: a call per chunk, no result",
    ),
    f"{_PUBLISHING}uploads.xǁUploadsǁ_store_file__mutmut_24": ("name = None", _FORM_NAME),
    f"{_PUBLISHING}uploads.xǁUploadsǁ_store_file__mutmut_30": (
        "send_file(full, target, None, size, on_read)",
        _FORM_NAME,
    ),
    f"{_PUBLISHING}uploads.xǁUploadsǁ_store_file__mutmut_80": (
        "kept = is_imported(path) or prepared.sha256 == sha",
        "the optimizer hands back the source's hash only for bytes it kept, and those with the source's own "
        "extension (lower-cased, as cloud_path writes it): both branches give the same cloud path",
    ),
    f"{_PUBLISHING}uploads.xǁUploadsǁ_store_file__mutmut_105": ("prepared.body, None)", _FORM_NAME),
}
