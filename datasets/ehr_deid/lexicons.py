"""Word lists the note scrubber relies on, kept small and reviewable.

- English given names and surnames: frequent ones of the US Social Security Administration's
  baby-name counts and the 2010 US Census surname table, plus common romanised Chinese
  surnames; words that are also ordinary or clinical English (May, Will, Hope, Ward, ...)
  are left out, since a lexicon hit needs no context.
- Chinese surnames: the single- and two-character surnames that cover most of the population
  (the Ministry of Public Security's surname ranking).
- Clinical vocabulary that must survive: eponyms, analytes, units, code systems and genes.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


GIVEN_NAMES = _words("""
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony donald
steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary nicholas
eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander patrick jack dennis jerry tyler
aaron jose adam nathan henry douglas zachary peter kyle ethan walter noah jeremy christian keith roger terry gerald
harold sean austin carl arthur lawrence dylan jesse jordan bryan billy joe bruce gabriel logan albert willie alan
juan wayne elijah randy roy vincent ralph eugene russell bobby mason philip louis harry howard fred wesley
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley
kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia kathleen
amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel carolyn janet
catherine maria heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith
megan andrea cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail
alice judy sophia denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany charlotte
marie kayla alexis lori anne mia ava sophie chloe zoe ella grace ellie harper aria layla riley nora hazel aurora
ivy emilia luna stella violet penelope lucy maya naomi elena sofia camila valentina isabel gabriela carmen rosa
ana lucia fatima aisha mohammed muhammad ahmed ali omar hassan ibrahim yusuf priya ananya rahul amit sanjay raj
wei jing min hui ying lei jun hao xin yan mei ling fang tao ming jie hong lin chen
hiroshi yuki kenji akira haruto sakura yui minho jiwoo seojun hana
""")

SURNAMES = _words("""
smith johnson williams jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson anderson
thomas taylor moore jackson martin lee perez thompson harris sanchez clark ramirez lewis robinson walker allen
wright scott torres nguyen flores adams nelson carter mitchell roberts gomez phillips evans turner diaz
campbell parker edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper
peterson bailey reed kelly howard ramos kim cox richardson watson brooks chavez sanders bennett
gray mendoza ruiz hughes alvarez castillo sandoval jimenez foster powell butler barnes fisher henderson coleman
simmons patterson jordan reynolds hamilton graham wallace gibson ellis stevens murray ford marshall owens
mcdonald harrison kennedy wells alvarez woods cole west jordan myers sullivan russell ortega freeman
webb tucker porter hunt crawford boyd mason warren dixon burns gordon shaw holmes rice robertson hayes
schmidt olson larson carlson hansen johansson mueller schneider becker kowalski novak ivanov petrov
obrien o'brien oconnor o'connor murphy gallagher mccarthy fitzgerald
wang li zhang liu chen yang huang zhao zhou xu sun zhu hu guo lin luo gao zheng liang xie tang han cao deng
xiao feng zeng cheng cai peng pan yuan dong yu jiang zou xiong qiu qin jia hou meng wan duan lei qian tan yin
kong cui shen yao jin fan fang liao wei
patel shah singh kumar sharma gupta khan ahmed hussain
tanaka suzuki takahashi watanabe yamamoto nakamura kobayashi sato park choi jung kang cho yoon
""")

# Names that are also ordinary or clinical words; never scrubbed on the lexicon alone.
AMBIGUOUS_NAMES = _words("""
may will mark bill grace hope faith joy rose iris lily ruby summer april june august dawn eve bell hunter
parker brown white black green young king long little wood woods stone hill lane street cook baker price rich
frank sharp best power hart fox wolf major chase page ward hall mercy graves addison parkinson crohn hodgkin
alzheimer cushing down still bright christmas lyme gray grey jordan carter west rice hayes ford
russell chance guy sunny sterling pat sue art gene ray rusty drew jack ali min jun
he ma song long fan pan tan jin yang hu ye li
""")

# Lower-case words that cannot be a name after a title or a relation ("nurse practitioner", "dr. office").
NOT_A_NAME = _words("""
a an the and or but of to in on at by for from with without as is was are were be been being has have had
will would should could may might can must shall did does do done not no yes very also then than that this
these those there here it its his her their our your my me him them us we you they she he who whom which
what when where why how all any each every some other another same such only own again further once
said says called call calls came come visit visits note notes office station practitioner educator manager
navigator line triage phone telephone today tomorrow yesterday present aware concerned agrees agreed reports
reported states stated notes noted recommends recommended advised saw seen sees visited informed updated
team service services clinic department unit ward floor shift staff nurse nurses doctor doctors physician
patient patients family member members care home visit's next previous recent new old late
mr mrs ms miss dr prof
""")

# Departments and services that follow "seen by" as capitalised words and are no person's name.
SERVICE_WORDS = _words("""
cardiology endocrinology nephrology neurology oncology ophthalmology optometry podiatry dermatology urology
gastroenterology pulmonology rheumatology psychiatry psychology radiology pathology surgery orthopedics
orthopaedics pediatrics paediatrics obstetrics gynecology gynaecology hematology haematology infectious disease
diseases emergency medicine internal family primary care team service clinic department unit icu er ed pt ot
social work nutrition dietitian dietetics pharmacy physical occupational therapy rehab rehabilitation hospice
palliative anesthesia anaesthesia nursing vascular plastic general thoracic interventional the a an diabetes
education educator center centre program eye retina wound
""")

CHINESE_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜"
    "崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文萧"
)
CHINESE_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "宇文",
                             "长孙", "夏侯", "司徒", "端木", "西门", "南宫")
# Characters that start or continue ordinary clinical Chinese, never the given name after 患者 and the like
# ("患者于今日", "患者高血压3年", "患者白细胞升高").
CHINESE_NOT_GIVEN_NAME = frozenset(
    "今昨前近日年月时于在因自诉主反出入住就经曾已无有未及与和并伴等为被将到从向对诊行术后再突持间呈以由血热压糖尿"
    "病痛疼咳喘吐泻肿胀晕烧疸细胞身侧肢饮食常规史的了是不也都又还而但或即该此其各每约共仅需应可能要会想看说做去来"
    "男女岁周次例名位个型度级期性者生医护士师院科室床号先士姐哥弟妹叔阿母父儿妻夫属人员患中下上左右内外"
)
CHINESE_NAME_CONTEXT = ("患者", "病人", "病患", "患儿", "姓名", "家属", "丈夫", "妻子", "儿子", "女儿", "母亲", "父亲",
                        "护士", "医生", "医师", "主任", "大夫", "联系人", "签名", "签字", "主治医师", "责任护士", "住院医师",
                        "记录者", "记录人", "陪同", "陪护", "监护人", "配偶", "爱人", "老伴", "孙子", "孙女", "哥哥",
                        "姐姐", "弟弟", "妹妹", "经治医师", "主诊医师", "会诊医师", "护理员", "药师", "技师")
CHINESE_NAME_SUFFIX = ("先生", "女士", "小姐", "医生", "医师", "护士", "主任", "大夫", "教授", "老师", "同志", "阿姨",
                       "师傅", "护师", "药师")

EPONYMS = _words("""
parkinson wilson addison crohn hodgkin graves alzheimer cushing hashimoto huntington bell raynaud sjogren sjögren
kawasaki down tourette asperger guillain-barre guillain-barré barrett paget marfan meniere ménière hirschsprung
kaposi bright buerger gehrig charcot babinski homans homan murphy mcburney kernig brudzinski chvostek trousseau
kussmaul cheyne-stokes korsakoff wernicke tay-sachs turner klinefelter conn dupuytren osgood-schlatter perthes
reiter reye still whipple wegener peyronie bowen burkitt ewing wilms zollinger-ellison stevens-johnson dressler
horner brown-sequard brown-séquard lyme gaucher fabry pompe niemann-pick willebrand hunter hurler tietze
takayasu behcet behçet glasgow apgar foley swan-ganz holter doppler gram pap bence-jones cheyne levine
graves-basedow basedow de quervain quervain bartter gitelman alport fanconi goodpasture berger henoch-schonlein
henoch-schönlein kimmelstiel-wilson charcot-marie-tooth duchenne becker von hippel-lindau lynch li-fraumeni
""")
EPONYM_HEADS = _words("""
disease disease's diseases syndrome syndromes sign signs palsy phenomenon lymphoma lymphomas sarcoma esophagus
oesophagus ulcer tumor tumour disorder triad reflex test catheter monitor score scale chorea dementia thyroiditis
ophthalmopathy orbitopathy encephalopathy contracture nephropathy nodules nodule lesion stain smear protein
respiration breathing procedure maneuver manoeuvre criteria classification staging variant tremor dystrophy
neuropathy arthritis ataxia anemia anaemia node nodes cells cell factor crisis foot arthropathy joint coma
""")
# Possessive eponyms that name the disease on their own ("Parkinson's", "Crohn's").
POSSESSIVE_DISEASES = _words("parkinson alzheimer crohn hodgkin graves addison cushing hashimoto huntington raynaud "
                             "sjogren sjögren meniere ménière paget barrett wilson")
CHINESE_EPONYMS = ("帕金森", "阿尔茨海默", "克罗恩", "桥本", "库欣", "格雷夫斯", "唐氏", "霍奇金", "艾迪生", "亨廷顿",
                   "雷诺", "川崎", "肝豆状核变性")

ANALYTES = _words("""
platelets platelet plt wbc rbc hgb hb hemoglobin haemoglobin hct hematocrit mcv glucose fbg fpg sodium na
potassium k chloride cl bicarbonate hco3 co2 creatinine cr bun urea alt ast alp ggt bilirubin tbil tsh ft4 ft3
ldl hdl cholesterol triglycerides tg hba1c a1c egfr uacr acr albumin alb protein crp hs-crp esr inr pt ptt aptt
troponin tnt tni bnp nt-probnp ferritin b12 folate calcium ca magnesium mg phosphate phosphorus lipase amylase
lactate cea psa ca-125 afp d-dimer fibrinogen neutrophils anc lymphocytes cd4 count counts c-peptide insulin
ketones beta-hydroxybutyrate osmolality urate uric iron tibc transferrin vitamin pth cortisol acth
""")
CHINESE_ANALYTES = ("血小板", "白细胞", "红细胞", "血红蛋白", "血糖", "空腹血糖", "餐后血糖", "糖化血红蛋白", "肌酐",
                    "尿素氮", "谷丙转氨酶", "谷草转氨酶", "甘油三酯", "总胆固醇", "胆固醇", "尿酸", "血钾", "血钠",
                    "中性粒细胞", "淋巴细胞", "C反应蛋白", "肌钙蛋白", "尿蛋白", "尿微量白蛋白")
UNITS = (
    "IU/mL", "IU/L", "IU/day", "IU", "units/kg", "units", "unit", "U/L", "U/kg", "U", "mg/dL", "mg/dl", "mg/kg",
    "mg/day", "mg/d", "mg", "mcg", "µg", "μg", "ug", "ng/mL", "ng/dl", "pg/mL", "g/dL", "g/L", "g", "kg", "mL/min",
    "mL", "ml", "L", "mmol/L", "mmol/mol", "µmol/L", "μmol/L", "umol/L", "mEq/L", "mEq", "x10^9/L", "×10^9/L",
    "x 10^9/L", "/µL", "/μL", "/uL", "/mm3", "cells/µL", "copies/mL", "mmHg", "bpm", "%", "毫克", "克", "单位", "毫升",
    "mmol/L", "×10⁹/L", "/L", "/HPF", "/hpf",
)
CODE_SYSTEMS = ("CPT", "HCPCS", "ICD-10-CM", "ICD-10-PCS", "ICD-10", "ICD10", "ICD-9-CM", "ICD-9", "ICD9", "ICD-11",
                "ICD", "SNOMED CT", "SNOMED", "LOINC", "RxNorm", "NDC", "DRG", "MS-DRG", "HCC", "ATC")
GENES = _words("""
TP53 EGFR KRAS NRAS HRAS BRAF ALK ROS1 RET MET ERBB2 HER2 PIK3CA PTEN APC MLH1 MSH2 MSH6 PMS2 EPCAM ATM CHEK2
PALB2 CDH1 STK11 VHL NF1 NF2 RB1 WT1 MYC MYCN JAK2 CALR MPL FLT3 NPM1 IDH1 IDH2 DNMT3A TET2 ASXL1 KIT PDGFRA
ABL1 BCR BCR-ABL1 CFTR HBB HBA1 HBA2 HFE SMN1 DMD FMR1 HTT APOE APOB LDLR PCSK9 MTHFR F5 F2 SLCO1B1 VKORC1
TPMT NUDT15 DPYD UGT1A1 G6PD HNF1A HNF4A HNF1B GCK KCNJ11 ABCC8 INS TCF7L2 PPARG LMNA MYH7 MYBPC3 SCN5A KCNQ1
KCNH2 TTN RYR1 FBN1 COL1A1 COL3A1 SOD1 C9orf72 LRRK2 SNCA PRKN GBA PSEN1 PSEN2 APP MAPT GRN BRCA1 BRCA2
CYP2C19 CYP2C9 CYP2D6 CYP3A4 CYP3A5 CYP1A2 CYP2B6 ESR1 AR FGFR2 FGFR3 NTRK1 NTRK2 NTRK3 MEN1 SDHB POLE
SLC30A8 PDX1 NEUROD1 WFS1 CDKAL1 FTO MC4R IGF2BP2 HHEX CDKN2A CDKN2B SLC2A2 GCKR MTNR1B ABCG2 HLA-DQ2 HLA-DQ8
""")
TOP_LEVEL_DOMAINS = _words("""
com org net edu gov mil int info biz io co us uk cn de fr jp nl ch se it es br kr hk tw in ru ca au nz ie be at
dk no fi pl cz pt gr il sg my th vn ph id mx ar za health care app dev ai me tv online site xyz ly to gl
""")
