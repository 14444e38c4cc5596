"""Policy basis of the checks: quotations from the five seed documents the project comes from."""

NANKAI = "《南开区全面推开惠民惠农财政补贴“一卡通”管理改革2023年工作安排》"
WEIDONG = "《平顶山市卫东区惠民惠农财政补贴“一卡通”管理实施方案》（2021）"
TIANJIN = "《天津市惠民惠农财政补贴“一卡通”管理改革实施方案》（2021）"
TAISHAN = "《泰安市泰山区惠民惠农财政补贴“一卡通”管理工作方案》（2021）"
XIGONG = "洛阳市西工区“一卡通”工作新闻及问答"


def q(doc: str, text: str) -> str:
    return f"{doc}：“{text}”"


FUNDS = q(NANKAI, "各业务主管部门要严格按照相关工作制度、工作流程，强化补贴资金的监督管理，防止截留、挤占、挪用、冒领补贴资金等问题。")
FEEDBACK = q(TAISHAN, "合作银行不得在补贴发放业务中额外收取费用，并及时向发放平台反馈发放结果。")
FALSE_CLAIM = q(WEIDONG, "对存在虚报冒领、贪污侵占、骗取补贴、挪用补贴资金等行为的单位和个人，依法依规严肃追究责任")
IN_FULL = q(NANKAI, "确保补贴资金准确、及时、安全、足额发放到位。")
STANDARD = q(TAISHAN, "审核完善补贴项目名称、补贴标准、发放周期、身份证号码、通讯地址、联系方式等基础信息")
TWO_WAY = q(TAISHAN, "定期公示补贴项目名称、政策标准和发放情况等……实现公示信息与实际到账信息的双向验证。")
REISSUE = q(TAISHAN, "对于发放失败的，补贴主管部门要重新核实后交合作银行按程序及时补发，确保享受对象足额享受补贴。") + "；" + \
    q(NANKAI, "对发放失败的要配合相关部门查找原因，及时处理后再次进行发放。")
COVERAGE = q(TAISHAN, "到2021年年底，以社保卡为载体发放各类补贴的比例达到70%以上，到2022年年底达到90%以上，到2023年年底前原则上达到100%。")
OWN_CARD = q(XIGONG, "发放到个人的惠民惠农财政补贴资金,必须发放到本人的社会保障卡账户中")
LIST = q(TIANJIN, "市级业务主管部门和各区要全面梳理直接发放给群众的财政补贴、补助、补偿资金等,形成本部门和本区的财政补贴政策清单")
PUBLISH_10 = q(TIANJIN, "发生调整的财政补贴政策清单应在政策出台实施后10个自然日内,由市级业务主管部门或各区予以公开。")
GUARDIAN = q(TAISHAN, "低保户、特困供养人员、残疾人、建档立卡贫困户、未成年人等，因特殊原因确需由他人代管代持社保卡的，要依法代管代持。")
HEAD = q(TAISHAN, "以家庭为单位的惠民惠农财政补贴资金，应发放到户主的社保卡金融账户或家庭成员共同指定的社保卡金融账户")
MANY_CARDS = q(XIGONG, "将于2021年年底前实现“一人一卡”集中发放并纳入“一卡通”系统管理,从根本上解决补贴发放一人多卡、不及时不精准等问题")
NO_PROXY = q(TAISHAN, "任何部门、个人不得强制收集、代管享受补贴人员的社保卡，不得代为领取和强行索取补贴资金")
NO_FEE = q(TAISHAN, "合作银行不得在补贴发放业务中额外收取费用")
DELAY = q(TIANJIN, "对虚报冒领、挤占挪用、侵占截留、滞留延压惠民惠农财政补贴等问题依据有关法律、法规予以严肃处理")
CARD_MATCH = q(NANKAI, "市人社局将补贴人员信息与社保卡信息进行比对，对未办理社保卡和未激活金融功能人员进行标注")
IDENTITY = q(NANKAI, "确定享受补贴人员具体情况，包括姓名、身份证号码、手机号码、户籍地等基本信息") + "；" + \
    q(TAISHAN, "建立补贴对象身份信息核查机制，加强对补贴对象资格的前端审核")
BIG_DATA = q(WEIDONG, "推动公安、人社、民政、教育、卫健、残联等相关部门数据归集共享……实现大数据比对筛查，提高审核效率和精准度。")
FAVOURS = q(XIGONG, "不可避免存在虚报冒领、截留挪用、滞留延压、优亲厚友、代管代持等问题")
CROSS = q(WEIDONG, "统筹利用省、市、区三级数据共享交换平台，建立部门间数据共享机制")
ANALYTICS = q(WEIDONG, "综合运用互联网、大数据等信息化手段，统筹推进相关政策整合优化和补贴资金管理、发放、信息公开等工作")
AUDIT = q(WEIDONG, "区财政局、区审计局按照部门职责，结合年度监督、审计计划安排，做好补贴资金发放管理情况的监督检查和审计监督。")
NOTICE_FIRST = q(TIANJIN, "财政补贴资金发放程序原则上采取数据采集、公示申报、数据审核、补贴支付四个实施步骤。")
PRIVACY = q(TIANJIN, "除个人隐私外,市级业务主管部门和各区要充分发挥门户网站、政务新媒体、政务公开栏等平台作用") + "；" + \
    q(WEIDONG, "有效保护补贴信息公开中的数据安全和个人隐私")


# Where each document applies: its GB/T 2260 region code. A district's own city or province is the longest prefix
# its code shares with a document's region (6 digits the district, 4 the city, 2 the province).
REGION = {NANKAI: "120104", TIANJIN: "12", WEIDONG: "410403", TAISHAN: "370902", XIGONG: "410303"}

# The same rule in the words of another place's document, where that document has it. The report quotes the
# audited district's own city or province where the seeds hold one, and the default quotation otherwise.
_TJ_FEEDBACK = q(TIANJIN, "业务主管部门……负责职责范围内补贴政策实施和资金管理、审核补贴发放资料,在规定时间内及时向财政部门提供补贴发放数据、反馈发放结果")
_TJ_DELAY = q(TIANJIN, "对虚报冒领、挤占挪用、侵占截留、滞留延压惠民惠农财政补贴等问题依据有关法律、法规予以严肃处理")
_TJ_SHARE = q(TIANJIN, "建立跨部门、跨层级信息共享机制。市有关部门和各区要依托市信息资源统一共享交换平台,定期或按工作需要共享补贴资金有关数据。")
_TJ_ANALYTICS = q(TIANJIN, "综合运用互联网、大数据等信息化管理手段,优化财政补贴资金申请、发放、监管、公开等工作,及时、足额、高效发放财政补贴")
_TJ_CARD = q(TIANJIN, "2023年12月底前,我市所有直接到人到户的惠民惠农财政补贴资金原则上通过社保卡“一卡通”发放,做到“应统尽统”")
_HN_LIST = q(XIGONG, "实现一张清单管制度,所有惠民惠农财政补贴政策和项目汇总到一个清单上,并在政府网站公开向社会公布")
LOCAL: dict[str, dict[str, str]] = {
    FEEDBACK: {"12": _TJ_FEEDBACK},
    FALSE_CLAIM: {"12": _TJ_DELAY},
    STANDARD: {"12": q(TIANJIN, "完善或制定本部门“一卡通”管理改革工作流程方案,明确补贴发放对象、标准,规范补贴发放程序、时限")},
    TWO_WAY: {"12": q(TIANJIN, "督促指导各有关部门做好补贴政策和资金发放等信息公开工作,确保公开信息的全面性、准确性、时效性")},
    REISSUE: {"12": q(NANKAI, "对发放失败的要配合相关部门查找原因，及时处理后再次进行发放。")},
    COVERAGE: {"12": _TJ_CARD},
    OWN_CARD: {"12": _TJ_CARD},
    NO_PROXY: {"12": q(TIANJIN, "对工作中未严格执行实名制,存在违规代办、冒领补贴等风险的金融机构,组织开展排查、检查并严肃问责")},
    IDENTITY: {"12": q(NANKAI, "确定享受补贴人员具体情况，包括姓名、身份证号码、手机号码、户籍地等基本信息")},
    BIG_DATA: {"12": _TJ_ANALYTICS},
    CROSS: {"12": _TJ_SHARE},
    ANALYTICS: {"12": _TJ_ANALYTICS},
    AUDIT: {"12": q(TIANJIN, "各级审计部门依法依规对补贴资金进行审计监督。")},
    PRIVACY: {"12": q(TIANJIN, "除个人隐私外,市级业务主管部门和各区要充分发挥门户网站、政务新媒体、政务公开栏等平台作用"),
              "41": q(WEIDONG, "有效保护补贴信息公开中的数据安全和个人隐私")},
    FUNDS: {"41": FALSE_CLAIM},
    IN_FULL: {"41": FALSE_CLAIM},
    LIST: {"41": _HN_LIST},
    DELAY: {"41": FAVOURS},
}


def for_district(basis: str, district_code: str | None) -> str:
    """The quotation of ``basis`` from the district's own city or province where the seeds hold one, else ``basis``.

    A quotation whose document is of the district's own place is kept as it is; a check's basis joining several
    quotations ("；") is localised part by part and duplicates are dropped."""
    code = str(district_code or "")
    if not code:
        return basis
    parts = [p for p in basis.split("；") if p] if basis not in LOCAL else [basis]
    out: list[str] = []
    for part in parts:
        doc = next((d for d in REGION if part.startswith(d + "：")), None)
        if doc is not None and code.startswith(REGION[doc][:2]):
            chosen = part                                    # already a document of the district's province
        else:
            alts = LOCAL.get(part, {})
            best = max((p for p in alts if code.startswith(p)), key=len, default=None)
            chosen = alts[best] if best is not None else part
        if chosen not in out:
            out.append(chosen)
    return "；".join(out)


def holding_target_source(district_code: str | None) -> str:
    """Where the 95 % card-holding target comes from for this district: only 泰山区's plan sets one."""
    code = str(district_code or "")
    if code.startswith(REGION[TAISHAN][:2]):
        return "泰山区方案“居民社保卡持卡率达到95%以上”"
    return "本地文件未规定持卡率目标，沿用泰山区方案“居民社保卡持卡率达到95%以上”"
