-- Forgiving search: regions get aliases too ("Schengen" finds Europe), and destinations get
-- the cities, islands and other names travellers type, and their names in the main travel
-- languages (German, French, Spanish, Italian, Portuguese, Dutch). Matching folds case and
-- accents, so each name is listed once. Destination aliases stay editable in the admin.

alter table regions add column aliases text[] not null default '{}';

update regions set aliases = v.aliases from (values
    ('europe', array['Schengen', 'Schengen Area', 'EU', 'European Union', 'Europa', 'Europe', 'Balkans', 'Scandinavia']),
    ('asia', array['Asie', 'Asien', 'Southeast Asia', 'East Asia', 'Asia Pacific', 'APAC']),
    ('north-america', array['Nordamerika', 'Amérique du Nord', 'América del Norte', 'USA and Canada']),
    ('latin-america', array['South America', 'Central America', 'Caribbean', 'Lateinamerika', 'Latinoamérica', 'Amérique latine', 'Südamerika', 'Sudamérica']),
    ('middle-east', array['MENA', 'Gulf', 'Persian Gulf', 'Naher Osten', 'Moyen-Orient', 'Oriente Medio']),
    ('africa', array['Afrique', 'Afrika', 'África']),
    ('oceania', array['Australasia', 'Pacific', 'South Pacific', 'Pacific Islands', 'Ozeanien', 'Océanie'])
) as v(id, aliases) where regions.id = v.id;

update destinations d set aliases = (
    select coalesce(array_agg(a order by o), '{}') from (
        select distinct on (lower(a)) a, o from unnest(d.aliases || v.extra) with ordinality as t(a, o)
        order by lower(a), o
    ) dedup
) from (values
    ('GB', array['London', 'Edinburgh', 'Manchester', 'Großbritannien', 'Royaume-Uni', 'Reino Unido', 'Regno Unito', 'Inglaterra', 'Angleterre']),
    ('FR', array['Paris', 'Nice', 'Lyon', 'Marseille', 'Corsica', 'Frankreich', 'Francia', 'França', 'Frankrijk']),
    ('DE', array['Berlin', 'Munich', 'München', 'Frankfurt', 'Hamburg', 'Allemagne', 'Alemania', 'Germania', 'Alemanha', 'Duitsland']),
    ('IT', array['Rome', 'Roma', 'Milan', 'Milano', 'Venice', 'Florence', 'Sicily', 'Sardinia', 'Italien', 'Italie', 'Itália']),
    ('ES', array['Madrid', 'Barcelona', 'Mallorca', 'Majorca', 'Ibiza', 'Canary Islands', 'Tenerife', 'Gran Canaria', 'Spanien', 'Espagne', 'Spagna', 'Espanha', 'Spanje']),
    ('PT', array['Lisbon', 'Lisboa', 'Porto', 'Madeira', 'Azores', 'Algarve', 'Portogallo']),
    ('NL', array['Amsterdam', 'Rotterdam', 'Niederlande', 'Pays-Bas', 'Países Bajos', 'Paesi Bassi', 'Nederland']),
    ('BE', array['Brussels', 'Bruxelles', 'Bruges', 'Belgien', 'Bélgica', 'Belgio']),
    ('CH', array['Zurich', 'Zürich', 'Geneva', 'Genève', 'Zermatt', 'Suiza', 'Suíça']),
    ('AT', array['Vienna', 'Wien', 'Salzburg', 'Innsbruck', 'Autriche']),
    ('IE', array['Dublin', 'Irland', 'Irlande', 'Irlanda']),
    ('GR', array['Athens', 'Santorini', 'Mykonos', 'Crete', 'Rhodes', 'Corfu', 'Griechenland', 'Grèce', 'Grecia', 'Grécia']),
    ('CZ', array['Prague', 'Praha', 'Prag', 'Tschechien']),
    ('HU', array['Budapest', 'Ungarn', 'Hongrie']),
    ('HR', array['Zagreb', 'Dubrovnik', 'Split', 'Kroatien', 'Croatie', 'Croacia']),
    ('IS', array['Reykjavik', 'Islande', 'Islandia']),
    ('MT', array['Valletta', 'Gozo']),
    ('CY', array['Nicosia', 'Paphos', 'Larnaca', 'Zypern', 'Chypre', 'Chipre']),
    ('TR', array['Istanbul', 'Antalya', 'Cappadocia', 'Bodrum', 'Türkei', 'Turquie', 'Turquía', 'Turchia', 'Turquia']),
    ('JP', array['Tokyo', 'Osaka', 'Kyoto', 'Okinawa', 'Hokkaido', 'Nippon', 'Nihon', 'Japon', 'Japón', 'Giappone', 'Japão']),
    ('KR', array['Seoul', 'Busan', 'Jeju', 'Südkorea', 'Corée du Sud', 'Corea del Sur']),
    ('CN', array['Beijing', 'Shanghai', 'Guangzhou', 'Shenzhen', 'Chine', 'Cina']),
    ('HK', array['Kowloon']),
    ('TW', array['Taipei']),
    ('TH', array['Bangkok', 'Phuket', 'Chiang Mai', 'Koh Samui', 'Krabi', 'Thailande', 'Tailandia', 'Tailândia']),
    ('VN', array['Hanoi', 'Ho Chi Minh City', 'Saigon', 'Da Nang', 'Viêt Nam']),
    ('MY', array['Kuala Lumpur', 'Penang', 'Langkawi', 'Borneo']),
    ('ID', array['Jakarta', 'Lombok', 'Java', 'Sumatra', 'Indonesien', 'Indonésie']),
    ('PH', array['Manila', 'Cebu', 'Palawan', 'Boracay', 'Philippinen', 'Filipinas']),
    ('IN', array['Delhi', 'New Delhi', 'Mumbai', 'Goa', 'Bangalore', 'Indien', 'Inde']),
    ('KH', array['Siem Reap', 'Angkor', 'Phnom Penh', 'Kambodscha', 'Cambodge']),
    ('LK', array['Colombo', 'Ceylon']),
    ('NP', array['Kathmandu', 'Everest']),
    ('MV', array['Malé Atoll', 'Malediven', 'Maldivas']),
    ('US', array['Hawaii', 'Honolulu', 'Maui', 'New York', 'NYC', 'Los Angeles', 'San Francisco', 'Las Vegas', 'Miami', 'Orlando', 'Florida', 'California', 'Alaska', 'Vereinigte Staaten', 'États-Unis', 'Estados Unidos', 'Stati Uniti']),
    ('CA', array['Toronto', 'Vancouver', 'Montreal', 'Montréal', 'Kanada']),
    ('MX', array['Cancun', 'Cancún', 'Mexico City', 'Tulum', 'Playa del Carmen', 'Mexiko', 'Mexique', 'México', 'Messico']),
    ('BR', array['Rio de Janeiro', 'São Paulo', 'Brasil', 'Brasilien', 'Brésil']),
    ('AR', array['Buenos Aires', 'Patagonia', 'Argentinien', 'Argentine']),
    ('PE', array['Lima', 'Cusco', 'Machu Picchu', 'Perú', 'Pérou']),
    ('CO', array['Bogotá', 'Cartagena', 'Medellín', 'Kolumbien', 'Colombie']),
    ('EC', array['Galápagos', 'Galapagos', 'Quito']),
    ('DO', array['Punta Cana', 'Santo Domingo', 'Dominikanische Republik', 'República Dominicana']),
    ('AE', array['UAE', 'Dubai', 'Abu Dhabi', 'Emirates', 'Vereinigte Arabische Emirate', 'Émirats arabes unis', 'Emiratos Árabes Unidos']),
    ('SA', array['Riyadh', 'Jeddah', 'Mecca', 'Makkah', 'Medina', 'Saudi']),
    ('QA', array['Doha', 'Katar']),
    ('IL', array['Tel Aviv', 'Jerusalem']),
    ('JO', array['Amman', 'Petra', 'Jordanien', 'Jordanie']),
    ('ZA', array['Cape Town', 'Johannesburg', 'Südafrika', 'Afrique du Sud', 'Sudáfrica']),
    ('EG', array['Cairo', 'Sharm el-Sheikh', 'Hurghada', 'Ägypten', 'Égypte', 'Egipto']),
    ('MA', array['Marrakech', 'Marrakesh', 'Casablanca', 'Fes', 'Marokko', 'Maroc', 'Marruecos']),
    ('TN', array['Tunis', 'Djerba']),
    ('KE', array['Nairobi', 'Mombasa']),
    ('TZ', array['Zanzibar', 'Kilimanjaro', 'Serengeti', 'Dar es Salaam']),
    ('MU', array['Port Louis', 'Maurice']),
    ('AU', array['Sydney', 'Melbourne', 'Brisbane', 'Perth', 'Cairns', 'Australien', 'Australie']),
    ('NZ', array['Auckland', 'Queenstown', 'Wellington', 'Aotearoa', 'Neuseeland', 'Nouvelle-Zélande', 'Nueva Zelanda']),
    ('FJ', array['Nadi', 'Suva', 'Fidschi', 'Fidji']),
    ('PF', array['Tahiti', 'Bora Bora', 'Moorea'])
) as v(iso, extra) where d.iso = v.iso;
