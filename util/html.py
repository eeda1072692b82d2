"""A results page (SPADE's web/index.html): rows of titled image grids, written with dominate."""
import os

import dominate
from dominate.tags import a, br, h3, img, meta, p, table, td, tr


class HTML:
    def __init__(self, web_dir, title, refresh=0):
        self.web_dir = web_dir
        self.img_dir = os.path.join(web_dir, 'images')
        os.makedirs(self.img_dir, exist_ok=True)
        self.doc = dominate.document(title=title)
        if refresh:
            with self.doc.head:
                meta(http_equiv='refresh', content=str(refresh))

    def add_header(self, text):
        with self.doc:
            h3(text)

    def add_images(self, links, titles, width=256):
        """links: paths relative to web_dir; one table row with a captioned picture each."""
        with self.doc:
            with table(border=1, style='table-layout: fixed;'):
                with tr():
                    for link, title in zip(links, titles):
                        with td(style='word-wrap: break-word;', halign='center', valign='top'):
                            with p():
                                with a(href=link):
                                    img(style=f'width:{width}px', src=link)
                                br()
                                p(title)

    def save(self):
        path = os.path.join(self.web_dir, 'index.html')
        with open(path + '.tmp', 'w') as f:
            f.write(self.doc.render())
        os.replace(path + '.tmp', path)
        return path
