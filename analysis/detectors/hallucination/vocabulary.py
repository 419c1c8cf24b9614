"""Word lists the claim extractor and the propagation analysis share. Kept small and generic on
purpose: they describe English and tool-naming habits, never a particular scenario."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: capitalised only because they open a sentence or a list item
LEADING_STOPWORDS = _words(
    """
    a an the this that these those there here it its i we our you your they their he she his her
    my me us them in on at for from to of by with as and or but so if then when while after before
    since until because although though however also thus therefore hence moreover furthermore
    additionally finally first second third next last lastly yes no not please note notes step
    according based given per regarding overall total answer summary let lets let's ok okay sure
    great thanks thank hello hi dear best regards all any each every some most many much more
    other such what which who whom whose where why how is are was were be been being do does did
    can could will would should shall may might must have has had just only even still both either
    neither one two three four five six seven eight nine ten today tomorrow yesterday now currently
    recently unfortunately fortunately approximately about around roughly nearly almost over under
    up down out into onto upon within without between among across through during against toward
    towards using use via action observation thought final result results output input task user
    assistant system tool agent call calling here's i'm i'll we'll we're it's that's there's
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december
    ceo cfo cto coo cio vp svp evp chairman chairwoman chair president director manager founder
    cofounder co-founder professor senator governor minister mayor judge analyst
    """
)

#: function words English capitalises only at a sentence start or in Title Case styling; never
#: words that are also given names or months ("Will", "May", "Mark")
TITLE_CASE_MARKERS = _words(
    """
    me you we us they them he him she her it its our your their my mine yours ours
    is are was were be been being am do does did has have had should would could shall must might
    if and or but nor so than that this these those to of in on at for from with by as into onto
    about not let lets let's up down out off over via per just very also
    """
)

#: title-case words of reports and chat layout; a "name" made only of these is a heading or label
GENERIC_CAPITALISED = _words(
    """
    key findings finding summary executive next steps step final answer report reports analysis
    results result overview recommendation recommendations conclusion conclusions action items item
    risk risks note notes details detail status update updates plan plans task tasks data source
    sources question questions response reply draft review reviewer verification verified check
    total revenue cost costs price prices growth margin quarter year month week day date time
    customer customers user users team teams company order orders account accounts ticket tickets
    issue issues error errors warning warnings info information context background introduction
    objective objectives goal goals requirements requirement scope approach method methods solution
    solutions option options pros cons yes no true false none null ok done success failed failure
    important thanks regards sincerely best high medium low critical priority category type name
    value values id ids number amount description title subject body message messages email phone
    address city country state region location reference references appendix table figure section
    part chapter page api json csv sql http https url pdf html xml yaml id ui ux ai llm gpt faq
    observation thought code output input final_answer memory tool tools agent agents system
    assistant search web results step phase stage version level tier round item part support desk
    service services department office center centre help helpdesk care operations ops sales
    billing finance engineering marketing legal security platform admin required root cause
    takeaways takeaway assessment estimated delivery impact evidence confidence rationale verdict
    """
)

#: lowercase particles inside one person's name ("Ludwig van Beethoven"); "of" and "and" are not,
#: they join two entities ("Elena Marsh of Globex") that downstream text may cite separately
NAME_CONNECTORS = ("de", "van", "von", "der", "den", "du", "da", "del", "la", "le")

#: tool-name words that mean the call changes the world (sends, books, pays, writes, deletes ...)
SIDE_EFFECT_VERBS = _words(
    """
    send post publish submit create insert add write save store put update patch modify edit set
    upsert delete remove drop cancel refund pay charge transfer_funds book reserve order purchase buy
    sell place execute run deploy merge commit push approve reject notify email sms message schedule
    invite assign close open file issue escalate transfer wire grant revoke restart reboot stop start
    kill terminate shutdown scale rollback reset rotate disable enable migrate provision destroy
    """
)

#: tool-name words that only read
READ_ONLY_VERBS = _words(
    "get fetch read search find lookup look list query retrieve browse view show check verify validate "
    "describe inspect count calculate compute estimate summarize translate parse"
)

#: words in an agent, span or tool name that make it a verification step
VERIFIER_WORDS = (
    "verif",
    "check",
    "validat",
    "review",
    "critic",
    "judge",
    "fact",
    "audit",
    "guard",
    "qa",
    "proofread",
)

#: phrases in a verifier's output that mean it rejected what it saw
REJECTION_PHRASES = (
    "not supported",
    "unsupported",
    "incorrect",
    "inaccurate",
    "not accurate",
    "cannot verify",
    "could not verify",
    "couldn't verify",
    "unable to verify",
    "not verified",
    "unverified",
    "fails",
    "failed",
    "reject",
    "hallucinat",
    "mismatch",
    "discrepanc",
    "contradict",
    "not found in",
    "no evidence",
    "fabricat",
    "wrong",
    "invalid",
    "does not match",
    "doesn't match",
)

#: phrases in a tool result or error that mean the named thing does not exist
NOT_FOUND_PHRASES = (
    "not found",
    "no such",
    "does not exist",
    "doesn't exist",
    "not exist",
    "unknown",
    "no record",
    "no records",
    "no results",
    "no result",
    "no match",
    "no matching",
    "could not find",
    "couldn't find",
    "cannot find",
    "can't find",
    "unable to find",
    "not be found",
    "n't be found",
    "not be located",
    "n't be located",
    "could not locate",
    "couldn't locate",
    "cannot locate",
    "unable to locate",
    "0 results",
    "zero results",
    "did not match any",
    "does not match any",
    "doesn't match any",
    "not recognized",
    "not recognised",
    "unrecognized",
    "unrecognised",
    "invalid id",
    "no entry",
    "nonexistent",
    "non-existent",
    "no longer exists",
    "not on file",
    "not on record",
    "notfound",  # codes written as one word: E_NOTFOUND, ENOTFOUND
    "enotfound",
    "enoent",  # POSIX "no such file or directory"
    "404",
)

#: generic words for "the thing looked up": "No record with id X" is a not-found from any tool
LOOKUP_NOUNS = _words("record entry item object resource entity document file row key page id")
