"""The letters the office starts with: a subject and a body per kind and language, in the
templating language staff edit (`twinning.letters.render`), shipped as version 0 of each
template. A saved version replaces it; the shipped text stays readable among the versions.

Paragraphs are separated by an empty line. The placeholders are listed in
`twinning.letters.render.PLACEHOLDERS`."""

from __future__ import annotations

from typing import Final

#: (kind, locale) -> (subject, body).
DEFAULTS: Final[dict[tuple[str, str], tuple[str, str]]] = {
    # --- the invitation ---------------------------------------------------------------------
    (
        "invitation",
        "zh-TW",
    ): (
        "邀請函：敬邀{{ partner }}代表團蒞臨{{ city }}訪問",
        """{{ addressee }} 台鑒：

{{ city }}謹代表市民誠摯邀請 台端率{{ partner }}代表團，於{{ dates }}蒞臨本市訪問。

本次訪問旨在{{ purpose }}。本府將妥善安排拜會及參訪行程，並負責代表團在本市期間之接待事宜。

如需進一步資訊，敬請洽{{ office_name }}（電子郵件：{{ office_email }}；電話：{{ office_phone }}）。

竭誠期盼 台端及代表團蒞臨。

耑此 敬頌
時祺""",
    ),
    ("invitation", "en"): (
        "Invitation to visit {{ city }}",
        """Dear {{ addressee }},

On behalf of the people of {{ city }}, it is my pleasure to invite you and the delegation of {{ partner }} to visit our city on {{ dates }}.

The purpose of the visit: {{ purpose }}. Our office will arrange the programme of meetings and visits, and will look after the delegation during its stay.

For any further information, please contact {{ office_name }} ({{ office_email }}, {{ office_phone }}).

We look forward to welcoming you.

Yours sincerely,""",
    ),
    ("invitation", "ja"): (
        "{{ city }}ご訪問のご招待",
        """{{ addressee }} 様

拝啓　{{ city }}を代表し、{{ partner }}代表団の皆様を{{ dates }}に本市へご招待申し上げます。

今回のご訪問の目的：{{ purpose }}。表敬訪問および視察の日程は当市が準備し、ご滞在中のご案内もいたします。

ご不明な点は{{ office_name }}（電子メール：{{ office_email }}、電話：{{ office_phone }}）までお問い合わせください。

皆様のお越しを心よりお待ち申し上げております。

敬具""",
    ),
    ("invitation", "ko"): (
        "{{ city }} 방문 초청",
        """{{ addressee }} 귀하

{{ city }} 시민을 대표하여 {{ partner }} 대표단을 {{ dates }} 우리 시에 초청하게 되어 기쁘게 생각합니다.

방문 목적: {{ purpose }}. 면담 및 시찰 일정은 우리 시가 준비하며, 체류 기간 동안 대표단을 안내해 드리겠습니다.

자세한 사항은 {{ office_name }}(이메일: {{ office_email }}, 전화: {{ office_phone }})로 문의해 주시기 바랍니다.

대표단의 방문을 진심으로 기다리겠습니다.""",
    ),
    ("invitation", "es"): (
        "Invitación a visitar {{ city }}",
        """Estimado/a {{ addressee }}:

En nombre de la ciudadanía de {{ city }}, tengo el placer de invitarle, junto con la delegación de {{ partner }}, a visitar nuestra ciudad ({{ dates }}).

Propósito de la visita: {{ purpose }}. Nuestra oficina preparará el programa de reuniones y visitas y atenderá a la delegación durante su estancia.

Para cualquier información adicional, puede dirigirse a {{ office_name }} ({{ office_email }}, {{ office_phone }}).

Esperamos tener el gusto de recibirles.

Atentamente,""",
    ),
    # --- the letter in support of a visa application ----------------------------------------
    ("visa-support", "zh-TW"): (
        "簽證協助函：{{ partner }}代表團訪問{{ city }}",
        """敬啟者：

茲證明{{ partner }}代表團由{{ head_title }}{{ head_name }}率領，一行{{ members }}人，應{{ city }}邀請，將於{{ dates }}來訪本市進行公務訪問。

本次訪問旨在{{ purpose }}，訪問行程由本府安排。

懇請 貴處惠予核發代表團成員所需之簽證，至紉公誼。如需查證，敬請洽{{ office_name }}（電子郵件：{{ office_email }}；電話：{{ office_phone }}）。""",
    ),
    ("visa-support", "en"): (
        "Letter in support of visa applications: the delegation of {{ partner }}",
        """To whom it may concern,

This is to confirm that the delegation of {{ partner }}, led by {{ head_title }} {{ head_name }}, with {{ members }} members, is invited by {{ city }} for an official visit on {{ dates }}.

The purpose of the visit: {{ purpose }}. The programme of the visit is arranged by our office.

We would be grateful for your favourable consideration of the visa applications of the members of the delegation. For any confirmation, please contact {{ office_name }} ({{ office_email }}, {{ office_phone }}).

Yours faithfully,""",
    ),
    ("visa-support", "ja"): (
        "査証申請に関する依頼状：{{ partner }}代表団",
        """関係各位

{{ head_title }}{{ head_name }}を団長とする{{ partner }}代表団（{{ members }}名）は、{{ city }}の招待により、{{ dates }}に公式訪問を行う予定であることを証明いたします。

訪問の目的：{{ purpose }}。訪問日程は当市が手配いたします。

代表団員の査証申請につきまして、格別のご高配を賜りますようお願い申し上げます。お問い合わせは{{ office_name }}（電子メール：{{ office_email }}、電話：{{ office_phone }}）までお願いいたします。""",
    ),
    ("visa-support", "ko"): (
        "사증 발급 협조 요청서: {{ partner }} 대표단",
        """관계자 귀하

{{ head_title }} {{ head_name }}을(를) 단장으로 하는 {{ partner }} 대표단 {{ members }}명이 {{ city }}의 초청으로 {{ dates }} 공식 방문할 예정임을 확인합니다.

방문 목적: {{ purpose }}. 방문 일정은 우리 시가 마련합니다.

대표단원의 사증 신청에 대하여 호의적인 검토를 부탁드립니다. 확인이 필요하시면 {{ office_name }}(이메일: {{ office_email }}, 전화: {{ office_phone }})로 연락해 주시기 바랍니다.""",
    ),
    ("visa-support", "es"): (
        "Carta de apoyo a las solicitudes de visado: delegación de {{ partner }}",
        """A quien corresponda:

Por la presente se hace constar que la delegación de {{ partner }}, encabezada por {{ head_title }} {{ head_name }} y compuesta por {{ members }} personas, ha sido invitada por {{ city }} a realizar una visita oficial ({{ dates }}).

Propósito de la visita: {{ purpose }}. El programa de la visita lo organiza nuestra oficina.

Les agradeceríamos que consideraran favorablemente las solicitudes de visado de los miembros de la delegación. Para cualquier confirmación, pueden dirigirse a {{ office_name }} ({{ office_email }}, {{ office_phone }}).

Atentamente,""",
    ),
    # --- the thank-you letter ---------------------------------------------------------------
    ("thank-you", "zh-TW"): (
        "感謝函：感謝{{ partner }}代表團蒞臨{{ city }}",
        """{{ addressee }} 台鑒：

承蒙 台端率{{ partner }}代表團於{{ dates }}蒞臨本市訪問，謹代表{{ city }}致上誠摯謝意。

此次訪問增進了雙方的瞭解與情誼，期盼未來持續深化交流與合作。

耑此 敬頌
時祺""",
    ),
    ("thank-you", "en"): (
        "Thank you for your visit to {{ city }}",
        """Dear {{ addressee }},

On behalf of {{ city }}, I would like to thank you and the delegation of {{ partner }} for your visit on {{ dates }}.

The visit deepened the understanding and friendship between us, and we look forward to continuing our exchanges and cooperation.

Yours sincerely,""",
    ),
    ("thank-you", "ja"): (
        "{{ city }}ご訪問の御礼",
        """{{ addressee }} 様

拝啓　このたびは{{ partner }}代表団の皆様に{{ dates }}、本市をご訪問いただき、{{ city }}を代表して心より御礼申し上げます。

今回のご訪問により相互理解と友好が一層深まりました。今後とも交流と協力を続けてまいりたく存じます。

敬具""",
    ),
    ("thank-you", "ko"): (
        "{{ city }} 방문 감사 서한",
        """{{ addressee }} 귀하

{{ partner }} 대표단이 {{ dates }} 우리 시를 방문해 주신 데 대하여 {{ city }}를 대표하여 깊은 감사를 드립니다.

이번 방문으로 양측의 이해와 우의가 한층 깊어졌으며, 앞으로도 교류와 협력이 지속되기를 기대합니다.""",
    ),
    ("thank-you", "es"): (
        "Agradecimiento por su visita a {{ city }}",
        """Estimado/a {{ addressee }}:

En nombre de {{ city }}, deseo agradecerle, a usted y a la delegación de {{ partner }}, su visita ({{ dates }}).

La visita ha estrechado el entendimiento y la amistad entre nosotros, y esperamos continuar nuestros intercambios y nuestra cooperación.

Atentamente,""",
    ),
}
