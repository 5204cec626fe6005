"""The note scrubber's rules one by one: Chinese PHI, note-only English PHI, the clinical content it
must keep, and what each mode does to dates."""

import pytest

from practicum.datasets.ehr_deid import DeidMode
from practicum.datasets.ehr_deid.canaries import survives
from practicum.datasets.ehr_deid.phi_zh import valid_resident_id
from practicum.datasets.ehr_deid.scrub import EMPTY_PATIENT, PatientIdentifiers, TextScrubber

SCRUBBER = TextScrubber(["李娜", "Obadiah Frankopan"], {"深圳湾": "[LOCATION]"})


def _scrub(text, mode=DeidMode.DATE_SHIFT, offset=10, patient=EMPTY_PATIENT):
    return SCRUBBER.scrub(text, patient, offset, mode)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("患者王芳因头痛入院。", ["王芳"], ["患者", "因头痛入院"]),
        ("患者张伟，男，", ["张伟"], ["患者", "，男，"]),
        ("家属欧阳娜娜陪同就诊。", ["欧阳娜娜"], ["家属", "陪同就诊"]),
        ("王医生建议复查；陈静女士诉乏力。", ["王医生", "陈静"], ["医生建议复查", "女士诉乏力"]),
        ("姓名：赵敏 性别：女", ["赵敏"], ["姓名", "性别：女"]),
        ("王芳，女，45岁，因多饮入院；李建华（男）陪同。", ["王芳", "李建华"], ["，女，45岁", "（男）陪同"]),
        ("患者于今日复诊，患者高血压10年，患者白细胞升高。", [], ["患者于今日复诊", "患者高血压10年", "患者白细胞升高"]),
        ("联系电话13920000000，手机：139-2000-0000，+86 13812345678", ["13920000000", "2000-0000", "13812345678"],
         ["联系电话"]),
        ("电话010-12345678或0755-1234567或（021）87654321", ["12345678", "1234567", "87654321"], ["电话"]),
        ("身份证号11010519491231002X。", ["11010519491231002X"], ["身份证号"]),
        ("家住北京市朝阳区建国路80号。", ["北京市", "朝阳区", "建国路", "80号"], ["家住"]),
        ("上海市徐汇区漕溪北路123弄4号502室", ["漕溪北路", "502室"], []),
        ("现住广东省深圳市南山区科技园路", ["深圳市", "科技园路"], ["现住"]),
        ("曾在深圳市人民医院和石桥镇卫生院治疗，后转至上级医院。", ["深圳市人民医院", "石桥镇卫生院"], ["转至上级医院"]),
        ("于仁爱诊所就诊。", ["仁爱诊所"], ["就诊"]),
        ("病历号：12345，住院号 A20210227，门诊号:889977", ["12345", "A20210227", "889977"], ["病历号", "住院号"]),
        ("health plan BID12345678, ID: 55321", ["bid12345678", "55321"], ["health plan", "ID:"]),
        ("患者，男，92岁；母亲九十五岁。", ["92岁", "九十五岁"], ["90+岁"]),
        ("车牌号京A12345。", ["京A12345"], ["车牌号"]),
        ("今日李娜来电，深圳湾附近。", ["李娜", "深圳湾"], ["今日", "来电"]),
    ],
)
def test_chinese_phi_is_removed_and_the_text_around_it_kept(text, gone, kept):
    out = _scrub(text)
    for g in gone:
        assert not survives(g, out), (g, out)
    for k in kept:
        assert k in out, (k, out)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("dr. quimby called; Nurse Jenkins and nurse halloran saw her.", ["quimby", "jenkins", "halloran"],
         ["called", "saw her"]),
        ("Her daughter Anna and his wife, Mary Fennimore, visited.", ["anna", "mary", "fennimore"], ["daughter", "wife"]),
        ("Pt's husband, Tomasz, drove her. Spoke with Bexley Ravensworth.", ["tomasz", "bexley", "ravensworth"],
         ["husband", "drove her"]),
        ("Seen by Cardiology. Nurse practitioner visit.", [], ["Seen by Cardiology", "Nurse practitioner visit"]),
        ("Patient: Zqorvath Bexley. Visitor: Tamsin Quell.", ["zqorvath", "bexley", "tamsin", "quell"], ["Patient:"]),
        ("Patricia brought her log; Gutierrez called.", ["patricia", "gutierrez"], ["brought her log"]),
        ("Next visit February 27th, then 27 Feb, Mar 3 and the 4th of July.", ["february 27", "27 feb", "mar 3",
                                                                             "4th of july"], ["Next visit"]),
        ("A ninety-two year old; aged ninety-five; 97-year-old; 93 y/o; age 101; in her late nineties; a nonagenarian.",
         ["ninety-two", "ninety-five", "97", "93", "101", "nineties", "nonagenarian"], ["year old", "90+"]),
        ("MRN: 123, record #4567, account no. 88231, Acct# 2231, Chart MRN 9259.", ["123", "4567", "88231", "2231",
                                                                                   "9259"], ["MRN", "record #"]),
        ("Family: +44 20 7946 0958, +49 30 1234567, 0044 20 7946 0958, +86 139 2000 0000.",
         ["79460958", "1234567", "20000000"], ["Family"]),
        ("Call back at 555-0199 or mobile 5550123, tel: 020 7946 0958 x 22.", ["0199", "5550123", "7946", " 22"],
         ["Call back"]),
        ("Mail john dot smith at gmail dot com, jsmith (at) example (dot) org or kim [at] clinic [dot] net.",
         ["john", "smith", "jsmith", "kim"], ["Mail"]),
        ("Readings at www.zqsite.org, zqother.com/portal/12 and portal.zqhealth.org, also bit.ly/zq9.",
         ["zqsite", "zqother", "zqhealth", "zq9"], ["Readings at"]),
        ("Parking for licence plate 7JZE545 and license plate no. ABC 1234; vehicle plate XKR-881.",
         ["7jze545", "abc 1234", "xkr-881"], ["Parking"]),
        ("Pump serial no. SN-48213, S/N 4821-AB33, IMEI 356938035643809, serial # 8F3K2L9Q.",
         ["48213", "4821-ab33", "356938035643809", "8f3k2l9q"], ["Pump"]),
        ("Seen 02.27.2021 and 27-Feb.", ["02.27.2021", "27-feb"], ["Seen"]),
    ],
)
def test_note_only_english_phi_is_removed(text, gone, kept):
    out = _scrub(text)
    for g in gone:
        assert g.lower() not in out.lower(), (g, out)
    for k in kept:
        assert k in out, (k, out)


@pytest.mark.parametrize(
    "text",
    [
        "Parkinson disease, Wilson's disease, Addison disease, Crohn's, Hodgkin lymphoma, non-Hodgkin lymphoma.",
        "Graves' ophthalmopathy, Alzheimer's disease, Cushing syndrome, Hashimoto thyroiditis, Bell's palsy.",
        "Charcot foot, Kimmelstiel-Wilson nodules, Foley catheter, Murphy's sign, Turner syndrome.",
        "platelets 250000, WBC 11200, Hgb 10.2 g/dL, glucose was 342 mg/dL, potassium 5.8, eGFR 48.",
        "vitamin D 50000 IU weekly, insulin glargine 24 units, metformin 1000 mg, levothyroxine 88 mcg.",
        "CPT 99214, ICD-10 E11.9, E11.65, I10, Z79.4, LOINC 4548-4, SNOMED CT 44054006, HCPCS G0108.",
        "CYP2C19*2 carrier, BRCA1, HLA-B*57:01, HLA-B*58:01, KCNJ11, TCF7L2, SLC30A8, EGFR.",
        "帕金森病，2型糖尿病，白细胞11.2×10^9/L，血小板250×10^9/L，二甲双胍0.5g，糖化血红蛋白9.1%，克罗恩病。",
        "Current smoker. Referred for a dilated retinal examination. Admitted with ketoacidosis. BP 134/77 mmHg.",
        "ECG: sinus rhythm, QTc 440 ms. Chest X-ray 2 views normal. May need CGM. Will start insulin 10 units qHS.",
    ],
)
def test_clinical_content_survives_verbatim(text):
    assert _scrub(text) == text
    assert _scrub(text, DeidMode.SAFE_HARBOR, None) == text


def test_a_surname_that_names_a_disease_is_a_name_after_a_title_and_the_disease_otherwise():
    out = _scrub("Mr. Wilson has Wilson disease; Dr. Addison treats Addison disease.")
    assert out == "Mr. [NAME] has Wilson disease; Dr. [NAME] treats Addison disease."


@pytest.mark.parametrize(
    ("text", "date_shift", "safe_harbor"),
    [
        ("2021年2月27日", "2021年3月9日", "2021年"),
        ("二〇二一年二月二十七日", "2021年3月9日", "2021年"),
        ("2021年2月", "2021年2月", "2021年"),
        ("2月27日", "3月9日", "[DATE]"),
        ("2021/02/27", "2021-03-09", "2021"),
        ("March 3, 2017", "2017-03-13", "2017"),
        ("03/14/2019", "2019-03-24", "2019"),
        ("in March 2019", "in 2019-03", "in 2019"),
        ("February 27th", "--03-09", "[DATE]"),
        ("27 Feb", "--03-09", "[DATE]"),
        ("seen 3/14 again", "seen [DATE] again", "seen [DATE] again"),
        ("Labs 3/2: Na 138", "Labs [DATE]: Na 138", "Labs [DATE]: Na 138"),
        ("in 2019 overall", "in 2019 overall", "in 2019 overall"),
    ],
)
def test_dates_follow_the_mode(text, date_shift, safe_harbor):
    assert _scrub(text, DeidMode.DATE_SHIFT, 10) == date_shift
    assert _scrub(text, DeidMode.SAFE_HARBOR, 10) == safe_harbor
    assert "2021年2月27日" not in _scrub(text, DeidMode.DATE_SHIFT, None)


def test_a_date_without_a_year_cannot_be_lined_up_with_its_shifted_copy():
    out = _scrub("Admitted 2021-02-27 (February 27th).", DeidMode.DATE_SHIFT, 40)
    assert "02-27" not in out and "February 27" not in out
    assert out == "Admitted 2021-04-08 (--04-08)."


@pytest.mark.parametrize(
    ("value", "valid"),
    [("11010519491231002X", True), ("110105194912310021", False), ("440305199001011234", False),
     ("44030519900101123", False), ("11010519491231002x", True)],
)
def test_resident_identity_numbers_are_checked_by_iso_7064_mod_11_2(value, valid):
    assert valid_resident_id(value) is valid


def test_a_patients_own_chinese_name_is_removed_wherever_it_is_written():
    patient = PatientIdentifiers.build(["王芳"], {}, [])
    out = SCRUBBER.scrub("今日王芳复诊，王芳的女儿陪同。", patient, 5)
    assert "王芳" not in out and "复诊" in out
